// The helper thread of the ONNX Runtime backend: owns the inference sessions (one per model hash and target)
// and runs them; onnxruntime-node's promises are awaited here while the program's thread waits (sync-worker.ts).
import { workerData } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import { describe, Fail, firstLine, fromResults, inferenceFailed, NO_ORT_MESSAGE, notAModel, onCreateFailure, sessionOptions, toFeeds, type OrtModule } from './onnx-convert.js';
import type { OnnxAnswer, OnnxRequest } from './onnx-messages.js';
import { serveSync, type SyncWorkerData } from './sync-worker.js';

let ortLoaded: Promise<OrtModule> | undefined;
// An optional dependency: a node without it still runs programs, and wasi-nn calls say what is missing.
const ort = (): Promise<OrtModule> =>
  (ortLoaded ??= import('onnxruntime-node').then((m) => {
    const o = (m.default ?? m) as OrtModule;
    // ONNX Runtime's own log (e.g. a missing CUDA library) would go straight to the node's stderr: errors reach
    // the log through wasi-nn's messages instead.
    o.env.logLevel = 'fatal';
    return o;
  }));

const sessions = new Map<string, { session: Ort.InferenceSession; target: 'cpu' | 'gpu' }>();

async function load(r: Extract<OnnxRequest, { op: 'load' }>, model: Uint8Array): Promise<OnnxAnswer> {
  const o = await ort();
  const key = `${r.id}:${r.target}`;
  let note: string | undefined;
  if (!sessions.has(key)) {
    const create = (providers: string[]) => o.InferenceSession.create(model.slice(), sessionOptions(providers));
    let session: Ort.InferenceSession;
    try {
      session = await create([r.target === 'gpu' ? 'cuda' : 'cpu']);
    } catch (e) {
      note = onCreateFailure(r.target, r.gpuFallback, e).note;
      session = await create(['cpu']).catch((e2: unknown) => { throw notAModel(e2); });
    }
    sessions.set(key, { session, target: r.target });
  }
  const { session } = sessions.get(key)!;
  const s = session as Ort.InferenceSession & { inputMetadata?: readonly Ort.InferenceSession.ValueMetadata[]; outputMetadata?: readonly Ort.InferenceSession.ValueMetadata[] };
  return { ok: true, note, info: { inputs: describe(s.inputMetadata, s.inputNames), outputs: describe(s.outputMetadata, s.outputNames) } };
}

async function run(r: Extract<OnnxRequest, { op: 'run' }>, data: Uint8Array[]): Promise<{ answer: OnnxAnswer; blobs: Uint8Array[] }> {
  const o = await ort();
  const entry = sessions.get(`${r.id}:${r.target}`);
  if (!entry) throw new Fail('runtime_error', 'graph is not loaded on this node');
  const { session } = entry;
  const feeds = toFeeds(o, session.inputNames, r.inputs, data);
  let results: Ort.InferenceSession.OnnxValueMapType;
  try {
    results = await session.run(feeds);
  } catch (e) {
    throw inferenceFailed(e);
  }
  const { outputs, blobs } = fromResults(session.outputNames, results);
  return { answer: { ok: true, outputs }, blobs };
}

serveSync(workerData as SyncWorkerData, async (r: OnnxRequest, blobs: Uint8Array[]) => {
  try {
    if (r.op === 'load') return { answer: await load(r, blobs[0]!) };
    return await run(r, blobs);
  } catch (e) {
    if (e instanceof Fail) return { answer: { ok: false, errno: e.errno, message: e.message } };
    const missing = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
    return {
      answer: missing
        ? { ok: false, errno: 'unsupported_operation', message: NO_ORT_MESSAGE }
        : { ok: false, errno: 'runtime_error', message: `ONNX Runtime: ${firstLine(e)}` },
    };
  }
});
