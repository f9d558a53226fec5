// NnOs over a stand-in backend: the wasi-nn error codes, what a hop carries (each model once per destination,
// inputs and outputs every time), and that a hostile snapshot is refused with a message naming what is wrong.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { MissingModelError, NnOs, withEveryModel } from './nn-os.js';
import type { NnState } from './state.js';
import { NnError, NnErrno, type GraphInfo, type ModelStore, type NnBackend, type NnTensor } from './types.js';

const INFO: GraphInfo = {
  inputs: [{ name: 'x', type: 'fp32', shape: [1, null] }, { name: 'sr', type: 'i64', shape: [] }],
  outputs: [{ name: 'y', type: 'fp32', shape: null }],
};

/** Doubles x; counts loads. */
class FakeBackend implements NnBackend {
  loads = 0;
  load(_id: string, model: Uint8Array): GraphInfo {
    this.loads++;
    if (model[0] !== 0x4d) throw new NnError('invalid_argument', 'not a model');
    return INFO;
  }
  compute(_id: string, _t: string, inputs: NnTensor[]): NnTensor[] {
    const x = new Float32Array(inputs[0]!.data.slice().buffer);
    return [{ type: 'fp32', dims: inputs[0]!.dims, data: new Uint8Array(x.map((v) => v * 2).buffer) }];
  }
}

class Store implements ModelStore {
  readonly m = new Map<string, Uint8Array>();
  hash(b: Uint8Array): string {
    return createHash('sha256').update(b).digest('hex');
  }
  put(id: string, b: Uint8Array) {
    this.m.set(id, b.slice());
  }
  get(id: string) {
    return this.m.get(id);
  }
}

const MODEL = new Uint8Array([0x4d, 1, 2, 3]);
const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);
const x = (...v: number[]): NnTensor => ({ type: 'fp32', dims: [1, v.length], data: f32(...v) });
const sr: NnTensor = { type: 'i64', dims: [], data: new Uint8Array(8) };

/** `named`: the models load_by_name finds; `everywhere`: names the config gives every node. */
function node(id: string, named: Record<string, Uint8Array> = {}, everywhere: string[] = []) {
  const backend = new FakeBackend();
  const store = new Store();
  const os = new NnOs({ node: id, backend, store, named: (n) => named[n], namedOn: (n) => everywhere.includes(n) });
  return { os, backend, store };
}

const code = (f: () => unknown): number => {
  try {
    f();
    return 0;
  } catch (e) {
    if (!(e instanceof NnError)) throw e;
    return e.code;
  }
};

describe('NnOs', () => {
  test('error codes', () => {
    const { os, store } = node('a', { m: MODEL });
    assert.equal(code(() => os.load([MODEL], 0, 0)), NnErrno.invalid_encoding);
    assert.equal(code(() => os.load([MODEL], 1, 2)), NnErrno.unsupported_operation);
    assert.equal(code(() => os.load([MODEL], 1, 9)), NnErrno.invalid_argument);
    assert.equal(code(() => os.load([MODEL, MODEL], 1, 0)), NnErrno.invalid_argument);
    assert.equal(code(() => os.load([new Uint8Array([1, 2])], 1, 0)), NnErrno.invalid_argument);
    assert.equal(store.m.size, 0, 'bytes that are not a model are not kept');
    assert.equal(code(() => os.loadByName('nope')), NnErrno.not_found);
    assert.equal(code(() => os.loadByName('m', '{"target":"tpu"}')), NnErrno.invalid_argument);
    assert.equal(code(() => os.loadByName('m', 'not json')), NnErrno.invalid_argument);
    const g = os.loadByName('m', '{"target":"cpu"}');
    assert.equal(code(() => os.initExecutionContext(g + 1)), NnErrno.invalid_argument);
    const c = os.initExecutionContext(g);
    assert.equal(code(() => os.setInput(c + 1, 0, x(1))), NnErrno.invalid_argument);
    assert.equal(code(() => os.setInput(c, 2, x(1))), NnErrno.invalid_argument); // no input 2
    assert.equal(code(() => os.setInput(c, 0, { ...x(1), type: 'fp64' })), NnErrno.invalid_argument);
    assert.equal(code(() => os.setInput(c, 0, { ...x(1, 2), dims: [1, 3] })), NnErrno.invalid_argument); // size
    assert.equal(code(() => os.setInput(c, 0, { ...x(1, 2), dims: [2, 1] })), NnErrno.invalid_argument); // shape
    assert.equal(code(() => os.setInput(c, 1, { ...sr, dims: [2], data: new Uint8Array(16) })), NnErrno.invalid_argument);
    assert.equal(code(() => os.getOutput(c, 0, 100)), NnErrno.invalid_argument); // before compute
    assert.equal(code(() => os.compute(c)), NnErrno.invalid_argument); // inputs not set
    os.setInput(c, 0, x(1, 2));
    os.setInput(c, 1, { ...sr, dims: [1] }); // a rank-1 [1] tensor for a scalar input
    os.compute(c);
    assert.equal(code(() => os.getOutput(c, 0, 7)), NnErrno.too_large);
    assert.equal(code(() => os.getOutput(c, 1, 100)), NnErrno.invalid_argument);
    assert.deepEqual(os.getOutput(c, 0, 8), f32(2, 4));
  });

  test('a hop carries inputs and outputs; each model goes once to each node', () => {
    const a = node('a');
    const b = node('b');
    const g = a.os.load([MODEL], 1, 0);
    const c = a.os.initExecutionContext(g);
    a.os.setInput(c, 0, x(3));
    let blobs: Uint8Array[] = [];
    let s = a.os.depart('b', blobs);
    assert.equal(s.models.length, 1, 'b lacks the model');
    b.os.arrive(JSON.parse(JSON.stringify(s)), blobs);
    assert.equal(b.backend.loads, 0, 'prepared lazily');
    b.os.setInput(c, 1, sr); // input 0 came along
    b.os.compute(c);
    blobs = [];
    s = b.os.depart('a', blobs);
    assert.equal(s.models.length, 0, 'a loaded it');
    a.os.arrive(s, blobs);
    assert.deepEqual(a.os.getOutput(c, 0, 100), f32(6), 'the output computed on b');
    blobs = [];
    s = a.os.depart('b', blobs);
    assert.equal(s.models.length, 0, 'b holds it since the first hop');
    assert.equal(blobs.reduce((n, x) => n + x.byteLength, 0), 4 + 8 + 4, 'inputs and output only');
    // Handles go on from where they were: a new graph does not replace graph 0.
    b.os.arrive(s, blobs);
    assert.equal(b.os.load([MODEL], 1, 0), g + 1);
  });

  test('a node that lost a model it held refuses the hop as MissingModelError; a whole snapshot carries every model', () => {
    const a = node('a');
    const b = node('b');
    const g = a.os.load([MODEL], 1, 0);
    const c = a.os.initExecutionContext(g);
    let blobs: Uint8Array[] = [];
    b.os.arrive(a.os.depart('b', blobs), blobs); // b holds the model now
    blobs = [];
    const back = b.os.depart('a', blobs);
    a.os.arrive(back, blobs);
    blobs = [];
    const again = a.os.depart('b', blobs);
    assert.equal(again.models.length, 0, 'b is recorded as holding it');
    // b restarts: a fresh node with an empty store.
    const restarted = node('b');
    assert.throws(() => restarted.os.arrive(again, blobs), MissingModelError);
    // The same snapshot made whole (as the sender's worker does for a whole snapshot): it resumes there.
    const whole = withEveryModel(again, blobs, a.store);
    assert.equal(whole.models.length, 1);
    assert.deepEqual(whole.held, {}, 'no node is taken to hold anything any more');
    restarted.os.arrive(whole, blobs);
    restarted.os.setInput(c, 0, x(5));
    restarted.os.setInput(c, 1, sr);
    restarted.os.compute(c);
    assert.deepEqual(restarted.os.getOutput(c, 0, 100), f32(10));
    // A model already carried is not carried twice.
    const twice = withEveryModel(whole, blobs, a.store);
    assert.equal(twice.models.length, 1);
  });

  test('a model the config gives every node by name is never carried; each node loads its own copy', () => {
    const a = node('a', { m: MODEL }, ['m']);
    const g = a.os.loadByName('m');
    const c = a.os.initExecutionContext(g);
    const blobs: Uint8Array[] = [];
    const s = a.os.depart('b', blobs);
    assert.equal(s.models.length, 0);
    const b = node('b', { m: MODEL }, ['m']);
    b.os.arrive(s, blobs);
    b.os.setInput(c, 0, x(1));
    assert.equal(b.backend.loads, 1);
    // A different file under that name on the destination: the graph fails there, clearly, at first use.
    const other = node('b', { m: new Uint8Array([0x4d, 7]) }, ['m']);
    other.os.arrive(s, blobs);
    assert.throws(() => other.os.setInput(c, 0, x(1)), /model "m" differs on node b/);
  });

  test('a hostile snapshot is refused with a message naming the problem', () => {
    const a = node('a');
    const g = a.os.load([MODEL], 1, 0);
    const c = a.os.initExecutionContext(g);
    a.os.setInput(c, 0, x(1, 2));
    const blobs: Uint8Array[] = [];
    const good = a.os.depart('b', blobs);
    const refuse = (mutate: (s: NnState, b: Uint8Array[]) => void, message: RegExp) => {
      const s = JSON.parse(JSON.stringify(good)) as NnState;
      const b = blobs.map((x) => x.slice());
      mutate(s, b);
      assert.throws(() => node('b').os.arrive(s, b), message);
    };
    refuse((s) => ((s as { version: number }).version = 9), /version/);
    refuse((s) => (s.graphs[0]!.model = 'abc'), /graphs\.0\.model: must be a SHA-256/);
    refuse((s) => (s.graphs[0]!.target = 'tpu' as 'cpu'), /graphs\.0\.target/);
    refuse((s) => (s.contexts[0]!.inputs[0]!.blob = 99), /blob 99 is not in the snapshot/);
    refuse((s) => (s.contexts[0]!.inputs[0]!.dims = [1, 3]), /8 bytes for a fp32 tensor of shape \[1, 3\]/);
    refuse((s) => (s.contexts[0]!.inputs[0]!.dims = new Array(17).fill(1)), /dims/);
    refuse((s) => (s.contexts[0]!.graph = 7), /uses graph 7/);
    refuse((s) => s.graphs.push({ ...s.graphs[0]! }), /duplicate graph handle/);
    refuse((s) => (s.next.graph = 0), /next handle/);
    refuse((s, b) => (b[s.models[0]!.blob] = new Uint8Array([0x4d, 9])), /hash to/);
    refuse((s) => (s.models = []), /does not hold/);
    refuse((s) => ((s as unknown as { extra: number }).extra = 1), /Unrecognized key/i);
    refuse((s) => (s.graphs = new Array(5000).fill(s.graphs[0])), /graphs/);
  });
});
