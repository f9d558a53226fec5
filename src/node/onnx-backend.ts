// wasi-nn's backend on a Node node: ONNX Runtime (onnxruntime-node). Where the installed package allows it, its
// native sessions run on the program's own thread (onnx-direct.ts: one native call per compute); otherwise — or
// with KAFU_NN_THREAD=helper — in a helper thread called synchronously (onnx-worker.ts, sync-worker.ts). Nothing
// is loaded before the first graph a program loads, so programs without wasi-nn never pay for ONNX Runtime.
import { NnError, type GraphInfo, type NnBackend, type NnTensor, type Target } from '../wasi/nn/types.js';
import { Fail, firstLine } from './onnx-convert.js';
import { DirectSessions } from './onnx-direct.js';
import type { OnnxAnswer, OnnxRequest } from './onnx-messages.js';
import { SyncWorker } from './sync-worker.js';

export interface OnnxBackendOptions {
  gpuFallback: 'error' | 'cpu';
  /** Told when a gpu graph falls back to the CPU. */
  warn: (message: string) => void;
  /** `helper`: always the helper thread (default: the program's thread where possible). */
  thread?: 'direct' | 'helper';
}

export class OnnxBackend implements NnBackend {
  /** undefined: not decided yet (before the first load); null: the helper thread. */
  private direct: DirectSessions | null | undefined;
  private worker: SyncWorker | undefined;
  /** Graph descriptions by `${id}:${target}`: loaded in the helper already. */
  private readonly loaded = new Map<string, GraphInfo>();

  constructor(private readonly options: OnnxBackendOptions) {}

  private sessions(): DirectSessions | null {
    if (this.direct === undefined) this.direct = this.options.thread === 'helper' ? null : (DirectSessions.open() ?? null);
    return this.direct;
  }

  private call(request: OnnxRequest, blobs: Uint8Array[]): { answer: OnnxAnswer & { ok: true }; blobs: Uint8Array[] } {
    this.worker ??= new SyncWorker(new URL('./onnx-worker.js', import.meta.url));
    const r = this.worker.call<OnnxAnswer>(request, blobs);
    if (!r.answer.ok) throw new NnError(r.answer.errno, r.answer.message);
    return { answer: r.answer, blobs: r.blobs };
  }

  load(id: string, model: Uint8Array, target: Target): GraphInfo {
    const direct = this.sessions();
    if (direct) {
      const { info, note } = asNnError(() => direct.load(id, model, target, this.options.gpuFallback));
      if (note) this.options.warn(note);
      return info;
    }
    const key = `${id}:${target}`;
    const known = this.loaded.get(key);
    if (known) return known;
    const { answer } = this.call({ op: 'load', id, target, gpuFallback: this.options.gpuFallback }, [model]);
    if (answer.note) this.options.warn(answer.note);
    this.loaded.set(key, answer.info!);
    return answer.info!;
  }

  compute(id: string, target: Target, inputs: NnTensor[]): NnTensor[] {
    const direct = this.sessions();
    if (direct) return asNnError(() => direct.run(id, target, inputs));
    const { answer, blobs } = this.call({ op: 'run', id, target, inputs: inputs.map(({ type, dims }) => ({ type, dims })) }, inputs.map((t) => t.data));
    return answer.outputs!.map((t, i) => ({ ...t, data: blobs[i]! }));
  }

  /** Release the sessions and stop the helper thread (it never keeps the process alive; tests may want it gone). */
  async close(): Promise<void> {
    this.direct?.close();
    this.direct = undefined;
    await this.worker?.terminate();
    this.worker = undefined;
    this.loaded.clear();
  }
}

/** A direct call's failure as the wasi-nn error the program sees. */
function asNnError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Fail) throw new NnError(e.errno, e.message);
    throw new NnError('runtime_error', `ONNX Runtime: ${firstLine(e)}`);
  }
}
