// The helper thread of the ONNX Runtime backend: owns the inference sessions (one per model hash and target)
// and runs them; onnxruntime-node's promises are awaited here while the program's thread waits (sync-worker.ts).
import { workerData } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import type { GraphIo, NnErrnoName, TensorType } from '../wasi/nn/types.js';
import type { OnnxAnswer, OnnxRequest, TensorMeta } from './onnx-messages.js';
import { serveSync, type SyncWorkerData } from './sync-worker.js';

type OrtModule = typeof Ort;
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

const ORT_TYPES: Record<TensorType, Ort.Tensor.Type> = { fp16: 'float16', fp32: 'float32', fp64: 'float64', u8: 'uint8', i32: 'int32', i64: 'int64' };
const FROM_ORT = new Map<string, TensorType>([...Object.entries(ORT_TYPES).map(([k, v]) => [v, k as TensorType] as const), ['bool', 'u8']]);
const ARRAYS: Record<TensorType, new (b: ArrayBuffer) => Ort.Tensor.DataType> = {
  fp16: Uint16Array, fp32: Float32Array, fp64: Float64Array, u8: Uint8Array, i32: Int32Array, i64: BigInt64Array,
};

class Fail extends Error {
  constructor(readonly errno: NnErrnoName, message: string) {
    super(message);
  }
}

function describe(meta: readonly Ort.InferenceSession.ValueMetadata[] | undefined, names: readonly string[]): GraphIo[] {
  return names.map((name, i) => {
    const m = meta?.[i];
    if (!m || !m.isTensor) return { name, type: null, shape: null };
    return { name, type: FROM_ORT.get(m.type) ?? null, shape: m.shape.map((d) => (typeof d === 'number' ? d : null)) };
  });
}

async function load(r: Extract<OnnxRequest, { op: 'load' }>, model: Uint8Array): Promise<OnnxAnswer> {
  const o = await ort();
  const key = `${r.id}:${r.target}`;
  let note: string | undefined;
  if (!sessions.has(key)) {
    // No spin-waiting in ONNX Runtime's thread pool between runs: a node also answers RPCs and heartbeats (and an
    // edge device runs other work); measured here, spinning tripled the CPU time of a frame-by-frame program.
    const create = (providers: string[]) =>
      o.InferenceSession.create(model.slice(), {
        executionProviders: providers,
        logSeverityLevel: 4,
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      });
    let session: Ort.InferenceSession;
    try {
      session = await create([r.target === 'gpu' ? 'cuda' : 'cpu']);
    } catch (e) {
      const why = firstLine(e);
      if (r.target === 'gpu' && /cuda|provider|shared library/i.test(why)) {
        if (r.gpuFallback !== 'cpu') {
          throw new Fail('unsupported_operation', `target gpu: ONNX Runtime's CUDA provider is not available on this node (${why}); app.nn.gpu_fallback: cpu runs such graphs on the CPU`);
        }
        session = await create(['cpu']).catch((e2: unknown) => { throw new Fail('invalid_argument', `not a model ONNX Runtime loads: ${firstLine(e2)}`); });
        note = `target gpu: no CUDA provider on this node (${why}); running on the CPU as app.nn.gpu_fallback says`;
      } else {
        throw new Fail('invalid_argument', `not a model ONNX Runtime loads: ${why}`);
      }
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
  const feeds: Record<string, Ort.Tensor> = {};
  r.inputs.forEach((t, i) => {
    // A fresh, aligned, unshared buffer (the blob is a view of the shared arena).
    const array = new ARRAYS[t.type](data[i]!.slice().buffer as ArrayBuffer);
    feeds[session.inputNames[i]!] = new o.Tensor(ORT_TYPES[t.type], array, t.dims);
  });
  let results: Ort.InferenceSession.OnnxValueMapType;
  try {
    results = await session.run(feeds);
  } catch (e) {
    throw new Fail('runtime_error', `inference failed: ${firstLine(e)}`);
  }
  const outputs: TensorMeta[] = [];
  const blobs: Uint8Array[] = [];
  for (const name of session.outputNames) {
    const v = results[name] as Ort.Tensor;
    const type = FROM_ORT.get(v.type);
    if (!type || typeof v.data === 'string' || Array.isArray(v.data)) throw new Fail('unsupported_operation', `output ${name} is of type ${v.type}`);
    const view = v.data as ArrayBufferView;
    blobs.push(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    outputs.push({ type, dims: [...v.dims] });
  }
  return { answer: { ok: true, outputs }, blobs };
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return (m.split('\n')[0] ?? m).replace(/\x1b\[[0-9;]*m/g, '').trim().slice(0, 300);
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
        ? { ok: false, errno: 'unsupported_operation', message: 'this node has no ONNX Runtime: install the npm package onnxruntime-node' }
        : { ok: false, errno: 'runtime_error', message: `ONNX Runtime: ${firstLine(e)}` },
    };
  }
});
