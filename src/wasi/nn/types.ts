// wasi-nn (witx era, module `wasi_ephemeral_nn`) as wasmtime and the original Kafu implement it: error codes,
// tensor types, encodings and targets with their ABI numbers, and the backend a node plugs in. No engine, no node:.

/** The witx `nn_errno` values (and the original Kafu's `wasi_nn_error`). */
export const NnErrno = {
  success: 0,
  invalid_argument: 1,
  invalid_encoding: 2,
  missing_memory: 3,
  busy: 4,
  runtime_error: 5,
  unsupported_operation: 6,
  too_large: 7,
  not_found: 8,
} as const;
export type NnErrnoName = keyof typeof NnErrno;

/** A wasi-nn failure the guest sees as an error code; the message is for the node's log. */
export class NnError extends Error {
  readonly code: number;
  constructor(readonly errno: NnErrnoName, message: string) {
    super(message);
    this.name = 'NnError';
    this.code = NnErrno[errno];
  }
}

export const nnFail = (errno: NnErrnoName, message: string): never => {
  throw new NnError(errno, message);
};

/** Tensor element types in ABI order (witx `tensor_type`). */
export const TENSOR_TYPES = ['fp16', 'fp32', 'fp64', 'u8', 'i32', 'i64'] as const;
export type TensorType = (typeof TENSOR_TYPES)[number];
export const ELEMENT_BYTES: Record<TensorType, number> = { fp16: 2, fp32: 4, fp64: 8, u8: 1, i32: 4, i64: 8 };

/** Graph encodings in ABI order (witx `graph_encoding`, as the original's header numbers them). */
export const ENCODINGS = ['openvino', 'onnx', 'tensorflow', 'pytorch', 'tensorflowlite', 'ggml', 'autodetect'] as const;
export const ONNX_ENCODING = 1;

/** Execution targets in ABI order. */
export const TARGETS = ['cpu', 'gpu', 'tpu'] as const;
export type Target = 'cpu' | 'gpu';

export interface NnTensor {
  type: TensorType;
  dims: number[];
  data: Uint8Array;
}

/** What a graph declares about one input or output; null where the model leaves it open (or uses another type). */
export interface GraphIo {
  name: string;
  type: TensorType | null;
  /** Per dimension: its fixed size, or null when symbolic; null for the whole shape when unknown. */
  shape: Array<number | null> | null;
}

export interface GraphInfo {
  inputs: GraphIo[];
  outputs: GraphIo[];
}

/**
 * A node's inference engine, synchronous as WASI calls are. Graphs are named by the SHA-256 of their model bytes,
 * so one loaded by several programs (or again after a hop) is prepared once. Failures are NnErrors.
 */
export interface NnBackend {
  /** Prepare `model` (whose SHA-256 is `id`) for `target`; cheap when already prepared. */
  load(id: string, model: Uint8Array, target: Target): GraphInfo;
  /** Run a prepared graph; `inputs` in the graph's input order, result in its output order. */
  compute(id: string, target: Target, inputs: NnTensor[]): NnTensor[];
}

/** Model bytes a node holds, by SHA-256 (lower-case hex). */
export interface ModelStore {
  /** The SHA-256 of `bytes`. */
  hash(bytes: Uint8Array): string;
  /** Keep a copy of `bytes`, whose SHA-256 is `id`. */
  put(id: string, bytes: Uint8Array): void;
  get(id: string): Uint8Array | undefined;
}

/** The models `load_by_name` finds on this node (config `app.nn.models`); undefined: not on this node. */
export type NamedModels = (name: string) => Uint8Array | undefined;

export interface NnOptions {
  node: string;
  backend: NnBackend;
  store: ModelStore;
  named: NamedModels;
  /**
   * Whether the config gives `node` the named model `name` too: then a graph loaded by that name is not carried
   * there, the node loads its own copy when the program first uses the graph (it must be the same model).
   */
  namedOn: (name: string, node: string) => boolean;
}
