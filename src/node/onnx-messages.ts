// Requests and answers between the ONNX Runtime backend (the program's thread) and its helper thread.
import type { GraphInfo, NnErrnoName, NnTensor, Target } from '../wasi/nn/types.js';

export type OnnxRequest =
  | { op: 'load'; id: string; model: Uint8Array; target: Target; gpuFallback: 'error' | 'cpu' }
  | { op: 'run'; id: string; target: Target; inputs: NnTensor[] };

export type OnnxAnswer =
  | { ok: true; info?: GraphInfo; note?: string; outputs?: NnTensor[] }
  | { ok: false; errno: NnErrnoName; message: string };
