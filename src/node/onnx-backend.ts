// wasi-nn's backend on a Node node: ONNX Runtime (onnxruntime-node) in a helper thread, called synchronously.
// The thread starts at the first graph a program loads, so programs without wasi-nn never pay for it.
import { NnError, type GraphInfo, type NnBackend, type NnTensor, type Target } from '../wasi/nn/types.js';
import type { OnnxAnswer, OnnxRequest } from './onnx-messages.js';
import { SyncWorker } from './sync-worker.js';

export interface OnnxBackendOptions {
  gpuFallback: 'error' | 'cpu';
  /** Told when a gpu graph falls back to the CPU. */
  warn: (message: string) => void;
}

export class OnnxBackend implements NnBackend {
  private worker: SyncWorker | undefined;
  /** Graph descriptions by `${id}:${target}`: loaded in the helper already. */
  private readonly loaded = new Map<string, GraphInfo>();

  constructor(private readonly options: OnnxBackendOptions) {}

  private call(request: OnnxRequest, blobs: Uint8Array[]): { answer: OnnxAnswer & { ok: true }; blobs: Uint8Array[] } {
    this.worker ??= new SyncWorker(new URL('./onnx-worker.js', import.meta.url));
    const r = this.worker.call<OnnxAnswer>(request, blobs);
    if (!r.answer.ok) throw new NnError(r.answer.errno, r.answer.message);
    return { answer: r.answer, blobs: r.blobs };
  }

  load(id: string, model: Uint8Array, target: Target): GraphInfo {
    const key = `${id}:${target}`;
    const known = this.loaded.get(key);
    if (known) return known;
    const { answer } = this.call({ op: 'load', id, target, gpuFallback: this.options.gpuFallback }, [model]);
    if (answer.note) this.options.warn(answer.note);
    this.loaded.set(key, answer.info!);
    return answer.info!;
  }

  compute(id: string, target: Target, inputs: NnTensor[]): NnTensor[] {
    const { answer, blobs } = this.call({ op: 'run', id, target, inputs: inputs.map(({ type, dims }) => ({ type, dims })) }, inputs.map((t) => t.data));
    return answer.outputs!.map((t, i) => ({ ...t, data: blobs[i]! }));
  }

  /** Stop the helper thread (it never keeps the process alive, but tests and benchmarks may want it gone). */
  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
    this.loaded.clear();
  }
}
