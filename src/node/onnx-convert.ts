// What both ways of running ONNX Runtime share (the program's own thread, onnx-direct.ts; the helper thread,
// onnx-worker.ts): wasi-nn tensors to ONNX Runtime feeds and back, graph descriptions, session options, and the
// errors a load or a run turns into.
import type * as Ort from 'onnxruntime-node';
import type { GraphIo, NnErrnoName, TensorType } from '../wasi/nn/types.js';
import type { TensorMeta } from './onnx-messages.js';

export type OrtModule = typeof Ort;

const ORT_TYPES: Record<TensorType, Ort.Tensor.Type> = { fp16: 'float16', fp32: 'float32', fp64: 'float64', u8: 'uint8', i32: 'int32', i64: 'int64' };
const FROM_ORT = new Map<string, TensorType>([...Object.entries(ORT_TYPES).map(([k, v]) => [v, k as TensorType] as const), ['bool', 'u8']]);
const ARRAYS: Record<TensorType, new (b: ArrayBuffer) => Ort.Tensor.DataType> = {
  fp16: Uint16Array, fp32: Float32Array, fp64: Float64Array, u8: Uint8Array, i32: Int32Array, i64: BigInt64Array,
};

/** A wasi-nn error with its code, said to the program (and logged by the host). */
export class Fail extends Error {
  constructor(readonly errno: NnErrnoName, message: string) {
    super(message);
  }
}

export function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return (m.split('\n')[0] ?? m).replace(/\x1b\[[0-9;]*m/g, '').trim().slice(0, 300);
}

/**
 * Session options. No spin-waiting in ONNX Runtime's thread pool between runs: a node also answers RPCs and
 * heartbeats (and an edge device runs other work); measured here, spinning tripled the CPU time of a frame-by-frame
 * program.
 */
export function sessionOptions(providers: string[]): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    logSeverityLevel: 4,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/**
 * A session for `target` failed to be created with `e`: a gpu graph without CUDA falls back to the CPU when the
 * config says so (the note is logged), else the program gets unsupported_operation; anything else is not a model.
 */
export function onCreateFailure(target: 'cpu' | 'gpu', gpuFallback: 'error' | 'cpu', e: unknown): { note: string } {
  const why = firstLine(e);
  if (target === 'gpu' && /cuda|provider|shared library/i.test(why)) {
    if (gpuFallback !== 'cpu') {
      throw new Fail('unsupported_operation', `target gpu: ONNX Runtime's CUDA provider is not available on this node (${why}); app.nn.gpu_fallback: cpu runs such graphs on the CPU`);
    }
    return { note: `target gpu: no CUDA provider on this node (${why}); running on the CPU as app.nn.gpu_fallback says` };
  }
  throw notAModel(e);
}

export const notAModel = (e: unknown) => new Fail('invalid_argument', `not a model ONNX Runtime loads: ${firstLine(e)}`);

export function describe(meta: readonly Ort.InferenceSession.ValueMetadata[] | undefined, names: readonly string[]): GraphIo[] {
  return names.map((name, i) => {
    const m = meta?.[i];
    if (!m || !m.isTensor) return { name, type: null, shape: null };
    return { name, type: FROM_ORT.get(m.type) ?? null, shape: m.shape.map((d) => (typeof d === 'number' ? d : null)) };
  });
}

/** Feeds for a run: each input a fresh, aligned, unshared copy of its bytes (the blob may view shared memory). */
export function toFeeds(o: OrtModule, inputNames: readonly string[], inputs: TensorMeta[], data: Uint8Array[]): Record<string, Ort.Tensor> {
  const feeds: Record<string, Ort.Tensor> = {};
  inputs.forEach((t, i) => {
    const array = new ARRAYS[t.type](data[i]!.slice().buffer as ArrayBuffer);
    feeds[inputNames[i]!] = new o.Tensor(ORT_TYPES[t.type], array, t.dims);
  });
  return feeds;
}

/** A run's outputs, in the graph's output order, as wasi-nn tensors (metadata, and bytes viewing ORT's buffers). */
export function fromResults(outputNames: readonly string[], results: Record<string, unknown>): { outputs: TensorMeta[]; blobs: Uint8Array[] } {
  const outputs: TensorMeta[] = [];
  const blobs: Uint8Array[] = [];
  for (const name of outputNames) {
    const v = results[name] as Ort.Tensor;
    const type = FROM_ORT.get(v.type);
    if (!type || typeof v.data === 'string' || Array.isArray(v.data)) throw new Fail('unsupported_operation', `output ${name} is of type ${v.type}`);
    const view = v.data as ArrayBufferView;
    blobs.push(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    outputs.push({ type, dims: [...v.dims] });
  }
  return { outputs, blobs };
}

export const inferenceFailed = (e: unknown) => new Fail('runtime_error', `inference failed: ${firstLine(e)}`);
export const NO_ORT_MESSAGE = 'this node has no ONNX Runtime: install the npm package onnxruntime-node';
