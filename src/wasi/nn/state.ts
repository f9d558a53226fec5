// The wasi-nn part of a snapshot: graphs (by model hash), execution contexts with the inputs set and outputs
// computed, which models each node holds, and the models this hop carries. Tensor and model bytes travel as
// blobs. Everything here comes from the wire: parseNnState checks shape and limits before anything is used.
import { z } from 'zod';
import { ELEMENT_BYTES, TENSOR_TYPES, type TensorType, type Target } from './types.js';

export const NN_STATE_VERSION = 1;

/** Limits on what a snapshot may declare (far above real programs, far below what would exhaust a node). */
export const NN_LIMITS = {
  graphs: 4096,
  contexts: 4096,
  tensorsPerContext: 1024,
  rank: 16,
  nodes: 1024,
  modelsPerNode: 4096,
} as const;

export interface TensorRef {
  type: TensorType;
  dims: number[];
  blob: number;
}

export interface NnState {
  version: typeof NN_STATE_VERSION;
  graphs: Array<{ handle: number; model: string; target: Target; name?: string }>;
  contexts: Array<{ handle: number; graph: number; inputs: Array<TensorRef | null>; outputs: TensorRef[] | null }>;
  next: { graph: number; context: number };
  /** The models each node holds (loaded there or carried there before), so that none is sent twice. */
  held: Record<string, string[]>;
  /** Models carried by this snapshot. */
  models: Array<{ id: string; blob: number }>;
}

const u32 = z.number().int().min(0).max(0xffffffff);
const sha = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex');
const tensor = z.strictObject({
  type: z.enum(TENSOR_TYPES),
  dims: z.array(u32).max(NN_LIMITS.rank),
  blob: z.number().int().min(0),
});
const schema = z.strictObject({
  version: z.literal(NN_STATE_VERSION),
  graphs: z
    .array(z.strictObject({ handle: u32, model: sha, target: z.enum(['cpu', 'gpu']), name: z.string().max(4096).optional() }))
    .max(NN_LIMITS.graphs),
  contexts: z
    .array(
      z.strictObject({
        handle: u32,
        graph: u32,
        inputs: z.array(tensor.nullable()).max(NN_LIMITS.tensorsPerContext),
        outputs: z.array(tensor).max(NN_LIMITS.tensorsPerContext).nullable(),
      }),
    )
    .max(NN_LIMITS.contexts),
  next: z.strictObject({ graph: u32, context: u32 }),
  held: z.record(z.string().min(1).max(256), z.array(sha).max(NN_LIMITS.modelsPerNode)),
  models: z.array(z.strictObject({ id: sha, blob: z.number().int().min(0) })).max(NN_LIMITS.graphs),
});

/** Checks `raw` against the format and the blobs it points into; throws an Error naming the first problem. */
export function parseNnState(raw: unknown, blobs: readonly Uint8Array[]): NnState {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`wasi-nn state: ${i.path.join('.') || '(top level)'}: ${i.message}`);
  }
  const s = parsed.data as NnState;
  if (Object.keys(s.held).length > NN_LIMITS.nodes) throw new Error(`wasi-nn state: held: more than ${NN_LIMITS.nodes} nodes`);
  const blob = (i: number, where: string): Uint8Array => {
    const b = blobs[i];
    if (!b) throw new Error(`wasi-nn state: ${where}: blob ${i} is not in the snapshot`);
    return b;
  };
  const unique = (handles: number[], what: string) => {
    if (new Set(handles).size !== handles.length) throw new Error(`wasi-nn state: duplicate ${what} handle`);
  };
  unique(s.graphs.map((g) => g.handle), 'graph');
  unique(s.contexts.map((c) => c.handle), 'context');
  const graphs = new Set(s.graphs.map((g) => g.handle));
  // New handles are numbered from `next`: one at or below a live handle would replace it.
  if (s.graphs.some((g) => g.handle >= s.next.graph) || s.contexts.some((c) => c.handle >= s.next.context)) {
    throw new Error('wasi-nn state: next handle numbers are not above the live ones');
  }
  const checkTensor = (t: TensorRef, where: string) => {
    const expected = t.dims.reduce((n, d) => n * d, ELEMENT_BYTES[t.type]);
    const got = blob(t.blob, where).byteLength;
    if (expected !== got) throw new Error(`wasi-nn state: ${where}: ${got} bytes for a ${t.type} tensor of shape [${t.dims.join(', ')}]`);
  };
  for (const c of s.contexts) {
    if (!graphs.has(c.graph)) throw new Error(`wasi-nn state: context ${c.handle} uses graph ${c.graph}, which is not in the state`);
    c.inputs.forEach((t, i) => t && checkTensor(t, `context ${c.handle} input ${i}`));
    c.outputs?.forEach((t, i) => checkTensor(t, `context ${c.handle} output ${i}`));
  }
  for (const m of s.models) blob(m.blob, `model ${m.id.slice(0, 12)}`);
  return s;
}
