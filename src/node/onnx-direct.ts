// ONNX Runtime on the program's own thread. onnxruntime-node's native session runs synchronously — its public
// `session.run` only wraps that call in setImmediate and a promise — so a wasi-nn compute can be one native call:
// no helper thread, no round trip (~40 µs a call, as much as a small model's inference). The binding module is not
// the package's public API, so its shape is checked before use; where it differs (another version of the package),
// the backend uses the helper thread and the public API instead (onnx-worker.ts).
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import type { GraphInfo, NnTensor, Target } from '../wasi/nn/types.js';
import { describe, Fail, fromResults, inferenceFailed, notAModel, onCreateFailure, sessionOptions, toFeeds, type OrtModule } from './onnx-convert.js';

interface RawMetadata {
  name: string;
  isTensor: boolean;
  type: number;
  shape: number[];
}
interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  readonly inputMetadata: RawMetadata[];
  readonly outputMetadata: RawMetadata[];
  run(feeds: Record<string, Ort.Tensor>, fetches: Record<string, null>, options: object): Record<string, unknown>;
  dispose(): void;
}
interface Loaded {
  session: NativeSession;
  inputNames: string[];
  outputNames: string[];
  fetches: Record<string, null>;
  info: GraphInfo;
}

// The binding's element type codes (ONNX TensorProto.DataType), as onnxruntime-node's own backend names them.
const TYPE_NAMES = [undefined, 'float32', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'string', 'bool', 'float16', 'float64', 'uint32', 'uint64'];

function metadata(raw: RawMetadata[]): Ort.InferenceSession.ValueMetadata[] {
  return raw.map((m) =>
    (m.isTensor
      ? { name: m.name, isTensor: true, type: TYPE_NAMES[m.type] ?? 'unknown', shape: m.shape.map((d) => (d >= 0 ? d : '?')) }
      : { name: m.name, isTensor: false }) as Ort.InferenceSession.ValueMetadata,
  );
}

export class DirectSessions {
  private readonly sessions = new Map<string, Loaded>();

  private constructor(
    private readonly ort: OrtModule,
    private readonly Session: new () => NativeSession,
  ) {}

  /** The native binding, when onnxruntime-node is installed and has the shape this code knows; else undefined. */
  static open(): DirectSessions | undefined {
    try {
      const require = createRequire(import.meta.url);
      const ort = require('onnxruntime-node') as OrtModule;
      const b = require('onnxruntime-node/dist/binding') as { binding?: { InferenceSession?: unknown }; initOrt?: unknown };
      const Session = b.binding?.InferenceSession as (new () => NativeSession) | undefined;
      if (typeof Session !== 'function' || typeof b.initOrt !== 'function') return undefined;
      if (typeof Session.prototype.loadModel !== 'function' || typeof Session.prototype.run !== 'function') return undefined;
      // ONNX Runtime's own log (e.g. a missing CUDA library) would go straight to the node's stderr: errors reach
      // the log through wasi-nn's messages instead.
      ort.env.logLevel = 'fatal';
      (b.initOrt as () => void)();
      return new DirectSessions(ort, Session);
    } catch {
      return undefined;
    }
  }

  load(id: string, model: Uint8Array, target: Target, gpuFallback: 'error' | 'cpu'): { info: GraphInfo; note?: string } {
    const key = `${id}:${target}`;
    const known = this.sessions.get(key);
    if (known) return { info: known.info };
    const create = (providers: string[]) => {
      const session = new this.Session();
      const bytes = model.slice(); // its own buffer: the model may be a view of the program's memory
      session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, sessionOptions(providers));
      return session;
    };
    let session: NativeSession;
    let note: string | undefined;
    try {
      session = create([target === 'gpu' ? 'cuda' : 'cpu']);
    } catch (e) {
      note = onCreateFailure(target, gpuFallback, e).note;
      try {
        session = create(['cpu']);
      } catch (e2) {
        throw notAModel(e2);
      }
    }
    const inputs = metadata(session.inputMetadata);
    const outputs = metadata(session.outputMetadata);
    const inputNames = inputs.map((m) => m.name);
    const outputNames = outputs.map((m) => m.name);
    const info = { inputs: describe(inputs, inputNames), outputs: describe(outputs, outputNames) };
    this.sessions.set(key, { session, inputNames, outputNames, fetches: Object.fromEntries(outputNames.map((n) => [n, null])), info });
    return { info, note };
  }

  run(id: string, target: Target, inputs: NnTensor[]): NnTensor[] {
    const entry = this.sessions.get(`${id}:${target}`);
    if (!entry) throw new Fail('runtime_error', 'graph is not loaded on this node');
    const feeds = toFeeds(this.ort, entry.inputNames, inputs, inputs.map((t) => t.data));
    let results: Record<string, unknown>;
    try {
      results = entry.session.run(feeds, entry.fetches, {});
    } catch (e) {
      throw inferenceFailed(e);
    }
    const { outputs, blobs } = fromResults(entry.outputNames, results);
    return outputs.map((t, i) => ({ ...t, data: blobs[i]! }));
  }

  close(): void {
    for (const { session } of this.sessions.values()) {
      try {
        session.dispose();
      } catch {
        /* already gone */
      }
    }
    this.sessions.clear();
  }
}
