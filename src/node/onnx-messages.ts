// Requests and answers between the ONNX Runtime backend (the program's thread) and its helper thread.
import type { GraphInfo, NnErrnoName, NnTensor, Target } from '../wasi/nn/types.js';

/** A tensor without its bytes: those travel as the call's blobs, in the same order. */
export type TensorMeta = Omit<NnTensor, 'data'>;

/** `load`: one blob, the model. `run`: one blob per input. */
export type OnnxRequest =
  | { op: 'load'; id: string; target: Target; gpuFallback: 'error' | 'cpu' }
  | { op: 'run'; id: string; target: Target; inputs: TensorMeta[] };

/** `run`: one blob per output. */
export type OnnxAnswer =
  | { ok: true; info?: GraphInfo; note?: string; outputs?: TensorMeta[] }
  | { ok: false; errno: NnErrnoName; message: string };
