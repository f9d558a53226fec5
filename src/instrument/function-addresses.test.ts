import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeU32, type Section } from '../core/wasm-sections.js';
import { TWIN_SHIFT, TwinMismatch, functionAddressesFromTwin } from './function-addresses.js';

const MARK = 0x3000_0000;
/** A padded 5-byte signed LEB, as wasm-ld writes relocated immediates. */
const padded = (v: number) => [0, 1, 2, 3, 4].map((i) => (Math.floor(v / 2 ** (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0));
const sleb = (v: number) => {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
};
const le32 = (v: number) => [0, 8, 16, 24].map((s) => (v >>> s) & 0xff);
const readPadded = (bytes: Uint8Array, at: number) => [0, 1, 2, 3, 4].reduce((v, i) => v + (bytes[at + i]! & 0x7f) * 2 ** (7 * i), 0);

/**
 * A module linked with the table at `base`: a table of 4 entries from index 1, code with `i32.const <table index
 * 2>` and `i32.const 2` (a plain number), and data whose word at offset 4 holds table index 3.
 */
function linked(base: number, over: { code?: number[]; data?: number[]; name?: string } = {}): Section[] {
  const size = base + 4;
  const code = over.code ?? [0x41, ...padded(base + 1), 0x1a, 0x41, ...padded(2), 0x1a, 0x0b];
  const body = [0, ...code]; // no locals
  return [
    { id: 4, payload: Uint8Array.from([1, 0x70, 0, ...encodeU32(size)]) },
    { id: 9, payload: Uint8Array.from([1, 0, 0x41, ...sleb(base), 0x0b, 4, 0, 1, 2, 3]) },
    { id: 10, payload: Uint8Array.from([1, ...encodeU32(body.length), ...body]) },
    { id: 11, payload: Uint8Array.from(over.data ?? [1, 0, 0x41, 0, 0x0b, 8, 0, 0, 0, 0, ...le32(base + 2)]) },
    { id: 0, name: 'name', payload: new TextEncoder().encode(over.name ?? 'a') },
  ];
}
const TWIN = 1 + TWIN_SHIFT;
// The code payload: count, body size, locals, then `0x41 imm` twice.
const FIRST_IMM = 4;
const SECOND_IMM = 11;

test('a table index in an i32.const is marked, the same number not one is not; indices in data are read', () => {
  const r = functionAddressesFromTwin(linked(1), linked(TWIN, { name: 'another output name' }), MARK);
  assert.equal(r.markedCount, 1);
  assert.equal(readPadded(r.markedCode, FIRST_IMM), MARK + 2);
  assert.equal(readPadded(r.markedCode, SECOND_IMM), 2);
  assert.deepEqual([...r.inData], [3]);
});

test('two links that differ other than by a moved table index: no result (the instrumenter resolves by type)', () => {
  const mismatch = (twin: Section[], why: RegExp) => assert.throws(() => functionAddressesFromTwin(linked(1), twin, MARK), (e) => e instanceof TwinMismatch && why.test(e.message), String(why));
  mismatch(linked(1), /table sizes differ/);
  mismatch(linked(1 + 2 * TWIN_SHIFT), /table sizes differ/);
  // A constant moved by the shift but not at an i32.const: an i64.const.
  mismatch(linked(TWIN, { code: [0x42, ...padded(TWIN + 1), 0x1a, 0x41, ...padded(2), 0x1a, 0x0b] }), /code differs/);
  // An unpadded immediate (--compress-relocations): the code's length changes.
  mismatch(linked(TWIN, { code: [0x41, ...sleb(TWIN + 1), 0x1a, 0x41, ...padded(2), 0x1a, 0x0b] }), /differs in length/);
  // A plain number that changed too.
  mismatch(linked(TWIN, { code: [0x41, ...padded(TWIN + 1), 0x1a, 0x41, ...padded(3), 0x1a, 0x0b] }), /code differs/);
  // Data that differs by other than the shift, or names an index past the table.
  mismatch(linked(TWIN, { data: [1, 0, 0x41, 0, 0x0b, 8, 0, 0, 0, 1, ...le32(TWIN + 2)] }), /data at 9: 0 is no table entry/);
  const past = linked(TWIN, { data: [1, 0, 0x41, 0, 0x0b, 8, 0, 0, 0, 0, ...le32(TWIN + 9)] });
  assert.throws(() => functionAddressesFromTwin(linked(1, { data: [1, 0, 0x41, 0, 0x0b, 8, 0, 0, 0, 0, ...le32(9)] }), past, MARK), /no table entry/);
  // Any other section that differs.
  const twin = linked(TWIN);
  twin.push({ id: 0, name: 'producers', payload: Uint8Array.of(1) });
  mismatch(twin, /different sections/);
  const a = [...linked(1), { id: 6, payload: Uint8Array.of(0) }];
  assert.throws(() => functionAddressesFromTwin(a, [...linked(TWIN), { id: 6, payload: Uint8Array.of(1) }], MARK), /section 6 differs/);
});
