// The wasi-nn library OS: graphs and execution contexts as plain state (model hash, inputs set, outputs
// computed) over a node's backend, so that all of it can leave a node in a snapshot and continue on another.
// Model bytes are content-addressed: a hop carries a model only to a node that does not hold it yet.
import { NN_LIMITS, NN_STATE_VERSION, parseNnState, type NnState, type TensorRef } from './state.js';
import {
  ELEMENT_BYTES, ENCODINGS, NnError, ONNX_ENCODING, TARGETS, nnFail,
  type GraphInfo, type NnOptions, type NnTensor, type Target,
} from './types.js';
import { NodeStateLostError } from '../node-state-lost.js';

interface Graph {
  model: string;
  target: Target;
  name?: string;
  /** From the backend; after a hop, asked for again at first use. */
  info?: GraphInfo;
}

interface Context {
  graph: number;
  inputs: Array<NnTensor | null>;
  outputs: NnTensor[] | null;
}

/**
 * A snapshot needs a model the receiving node does not hold: it lost it (restarted) since the program recorded that
 * it holds it. The sender can send a whole snapshot instead, which carries every model (`withEveryModel`).
 */
export class MissingModelError extends NodeStateLostError {}

/**
 * A snapshot's wasi-nn state (`raw`, this node's own) made to carry every model its graphs use that `store` holds,
 * appended to `blobs`; and recording that no node holds anything, so that later hops carry a model once more to
 * each node. For whole snapshots — a saved program, a checkpoint handed on, a receiver that lost its models — which
 * may be resumed where the models are gone.
 */
export function withEveryModel(raw: unknown, blobs: Uint8Array[], store: Pick<NnOptions['store'], 'get'>): NnState {
  const s = parseNnState(raw, blobs);
  const carried = new Set(s.models.map((m) => m.id));
  const models = [...s.models];
  for (const g of s.graphs) {
    const bytes = store.get(g.model);
    if (carried.has(g.model) || !bytes) continue;
    carried.add(g.model);
    models.push({ id: g.model, blob: blobs.push(bytes) - 1 });
  }
  return { ...s, models, held: {} };
}

export class NnOs {
  private readonly graphs = new Map<number, Graph>();
  private readonly contexts = new Map<number, Context>();
  private next = { graph: 0, context: 0 };
  private held = new Map<string, Set<string>>();

  constructor(private readonly options: NnOptions) {}

  load(builders: Uint8Array[], encoding: number, target: number): number {
    if (encoding !== ONNX_ENCODING) {
      nnFail('invalid_encoding', `graph encoding ${ENCODINGS[encoding] ?? encoding} is not supported (only onnx)`);
    }
    if (builders.length !== 1) nnFail('invalid_argument', `an onnx graph is one builder, not ${builders.length}`);
    return this.add(builders[0]!, this.target(target));
  }

  /** `config`: empty, or a JSON object whose only key is `target` ("cpu" or "gpu"). */
  loadByName(name: string, config = ''): number {
    let target: Target = 'cpu';
    if (config.trim() !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(config);
      } catch {
        return nnFail('invalid_argument', `load_by_name_with_config: config is not JSON: ${config.slice(0, 80)}`);
      }
      const keys = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.keys(parsed) : null;
      const t = (parsed as { target?: unknown } | null)?.target;
      if (!keys || keys.some((k) => k !== 'target') || (t !== undefined && t !== 'cpu' && t !== 'gpu')) {
        nnFail('invalid_argument', 'load_by_name_with_config: config must be a JSON object like {"target":"gpu"}');
      }
      if (t === 'gpu') target = 'gpu';
    }
    const bytes = this.options.named(name);
    if (!bytes) return nnFail('not_found', `no model named "${name}" on node ${this.options.node}`);
    return this.add(bytes, target, name);
  }

  private target(n: number): Target {
    const t = TARGETS[n];
    if (t === undefined) return nnFail('invalid_argument', `unknown execution target ${n}`);
    if (t === 'tpu') return nnFail('unsupported_operation', 'execution target tpu is not supported');
    return t;
  }

  private add(bytes: Uint8Array, target: Target, name?: string): number {
    if (bytes.byteLength === 0) nnFail('invalid_argument', 'empty model');
    if (this.graphs.size >= NN_LIMITS.graphs) nnFail('too_large', `more than ${NN_LIMITS.graphs} graphs`);
    const { store } = this.options;
    const model = store.hash(bytes);
    // Kept only once the backend has accepted it: bytes that are not a model are not held on to.
    const info = this.options.backend.load(model, store.get(model) ?? bytes, target);
    if (!store.get(model)) store.put(model, bytes);
    const handle = this.next.graph++;
    this.graphs.set(handle, { model, target, name, info });
    this.holds(this.options.node).add(model);
    return handle;
  }

  initExecutionContext(graph: number): number {
    this.graph(graph);
    if (this.contexts.size >= NN_LIMITS.contexts) nnFail('too_large', `more than ${NN_LIMITS.contexts} execution contexts`);
    const handle = this.next.context++;
    this.contexts.set(handle, { graph, inputs: [], outputs: null });
    return handle;
  }

  setInput(ctx: number, index: number, t: NnTensor): void {
    const c = this.context(ctx);
    const { inputs } = this.info(c.graph);
    const io = inputs[index];
    if (!io) return nnFail('invalid_argument', `input ${index}: the graph has ${inputs.length} input(s)`);
    const where = `input ${index} (${io.name})`;
    if (io.type !== null && io.type !== t.type) nnFail('invalid_argument', `${where} is ${io.type}, not ${t.type}`);
    const elements = t.dims.reduce((n, d) => n * d, 1);
    if (elements * ELEMENT_BYTES[t.type] !== t.data.byteLength) {
      nnFail('invalid_argument', `${where}: ${t.data.byteLength} bytes for ${t.type} of shape [${t.dims.join(', ')}]`);
    }
    if (io.shape !== null && !shapeFits(io.shape, t.dims)) {
      nnFail('invalid_argument', `${where}: shape [${t.dims.join(', ')}] does not fit the graph's [${io.shape.map((d) => d ?? '?').join(', ')}]`);
    }
    c.inputs[index] = { type: t.type, dims: [...t.dims], data: t.data.slice() };
  }

  compute(ctx: number): void {
    const c = this.context(ctx);
    const g = this.graph(c.graph);
    const { inputs } = this.info(c.graph);
    const given: NnTensor[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const t = c.inputs[i];
      if (!t) return nnFail('invalid_argument', `input ${i} (${inputs[i]!.name}) was not set`);
      given.push(t);
    }
    c.outputs = this.options.backend.compute(g.model, g.target, given);
  }

  getOutput(ctx: number, index: number, maxBytes: number): Uint8Array {
    const c = this.context(ctx);
    if (!c.outputs) return nnFail('invalid_argument', `context ${ctx}: compute has not run`);
    const t = c.outputs[index];
    if (!t) return nnFail('invalid_argument', `output ${index}: the graph has ${c.outputs.length} output(s)`);
    if (t.data.byteLength > maxBytes) nnFail('too_large', `output ${index} is ${t.data.byteLength} bytes, the buffer ${maxBytes}`);
    return t.data;
  }

  private graph(handle: number): Graph {
    return this.graphs.get(handle) ?? nnFail('invalid_argument', `unknown graph ${handle}`);
  }

  private context(handle: number): Context {
    return this.contexts.get(handle) ?? nnFail('invalid_argument', `unknown execution context ${handle}`);
  }

  private info(handle: number): GraphInfo {
    const g = this.graph(handle);
    if (!g.info) {
      const { store, node } = this.options;
      if (!store.get(g.model) && g.name !== undefined) {
        // Not carried here because the config gives this node the model by that name: load our own copy.
        const own = this.options.named(g.name);
        const id = own && store.hash(own);
        if (own && id === g.model) store.put(id, own);
        if (id !== g.model) {
          return nnFail('runtime_error', `model "${g.name}" ${own ? 'differs on' : 'is missing from'} node ${node} (the program loaded ${g.model.slice(0, 12)}…)`);
        }
        this.holds(node).add(id);
      }
      const bytes = store.get(g.model);
      if (!bytes) return nnFail('runtime_error', `model ${g.model.slice(0, 12)}… is not on node ${node}`);
      g.info = this.options.backend.load(g.model, bytes, g.target);
    }
    return g.info;
  }

  private holds(node: string): Set<string> {
    let s = this.held.get(node);
    if (!s) this.held.set(node, (s = new Set()));
    return s;
  }

  // ---- migration ----

  /** State for node `to`; models `to` does not hold yet are appended to `blobs` (and from now on it holds them). */
  depart(to: string, blobs: Uint8Array[]): NnState {
    const blob = (data: Uint8Array): number => blobs.push(data) - 1;
    const ref = (t: NnTensor): TensorRef => ({ type: t.type, dims: t.dims, blob: blob(t.data) });
    const models: NnState['models'] = [];
    const theirs = this.holds(to);
    for (const g of this.graphs.values()) {
      if (theirs.has(g.model) || (g.name !== undefined && this.options.namedOn(g.name, to))) continue;
      models.push({ id: g.model, blob: blob(this.options.store.get(g.model)!) });
      theirs.add(g.model);
    }
    return {
      version: NN_STATE_VERSION,
      graphs: [...this.graphs].map(([handle, g]) => ({ handle, model: g.model, target: g.target, ...(g.name ? { name: g.name } : {}) })),
      contexts: [...this.contexts].map(([handle, c]) => ({
        handle,
        graph: c.graph,
        inputs: c.inputs.map((t) => (t ? ref(t) : null)),
        outputs: c.outputs?.map(ref) ?? null,
      })),
      next: { ...this.next },
      held: Object.fromEntries([...this.held].map(([n, s]) => [n, [...s]])),
      models,
    };
  }

  /** Take over the state a snapshot carries (`raw` unchecked); all or nothing, throws an Error naming the problem. */
  arrive(raw: unknown, blobs: readonly Uint8Array[]): void {
    const s = parseNnState(raw, blobs);
    const { store, node } = this.options;
    for (const m of s.models) {
      const id = store.hash(blobs[m.blob]!);
      if (id !== m.id) throw new Error(`wasi-nn state: the bytes of model ${m.id.slice(0, 12)}… hash to ${id.slice(0, 12)}…`);
    }
    for (const m of s.models) store.put(m.id, blobs[m.blob]!);
    for (const g of s.graphs) {
      if (!store.get(g.model) && !(g.name !== undefined && this.options.namedOn(g.name, node))) {
        throw new MissingModelError(`wasi-nn state: graph ${g.handle} needs model ${g.model.slice(0, 12)}…, which node ${node} does not hold (restarted since it received it?)`);
      }
    }
    const tensor = (t: TensorRef): NnTensor => ({ type: t.type, dims: [...t.dims], data: blobs[t.blob]!.slice() });
    this.graphs.clear();
    this.contexts.clear();
    for (const g of s.graphs) this.graphs.set(g.handle, { model: g.model, target: g.target, name: g.name });
    for (const c of s.contexts) {
      this.contexts.set(c.handle, { graph: c.graph, inputs: c.inputs.map((t) => (t ? tensor(t) : null)), outputs: c.outputs?.map(tensor) ?? null });
    }
    this.next = { ...s.next };
    this.held = new Map(Object.entries(s.held).map(([n, ids]) => [n, new Set(ids)]));
  }
}

/** Whether `dims` fits a declared shape; a one-element tensor fits a one-element shape of any rank (scalars). */
function shapeFits(shape: Array<number | null>, dims: number[]): boolean {
  if (shape.length === dims.length) return shape.every((d, i) => d === null || d === dims[i]);
  const one = (s: Array<number | null>) => s.every((d) => d === 1);
  return one(dims) && one(shape);
}

export { NnError };
