import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import binaryen from 'binaryen';
import { BITMAP, PageDiff, WASM } from './page-diff.js';
import { PAGE_SIZE } from './snapshot.js';

test('the embedded module is page-diff.wat as binaryen builds it', () => {
  const source = readFileSync(new URL('../../../src/core/page-diff.wat', import.meta.url), 'utf8');
  const mod = binaryen.parseText(source);
  try {
    mod.setFeatures(binaryen.Features.SIMD128 | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt);
    assert.ok(mod.validate());
    assert.equal(Buffer.from(mod.emitBinary()).toString('base64'), WASM, 'rebuild the WASM string from page-diff.wat');
  } finally {
    mod.dispose();
  }
});

/** The sparse payload of a XOR b, word by word. */
function reference(a: Uint8Array, b: Uint8Array | undefined): Uint8Array {
  const [x, y] = [new Int32Array(a.slice().buffer), b ? new Int32Array(b.slice().buffer) : new Int32Array(PAGE_SIZE / 4)];
  const bitmap = new Uint8Array(BITMAP);
  const values: number[] = [];
  for (let w = 0; w < x.length; w++) {
    if (x[w] === y[w]) continue;
    bitmap[w >> 3]! |= 1 << (w & 7);
    values.push(x[w]! ^ y[w]!);
  }
  const out = new Uint8Array(BITMAP + 4 * values.length);
  out.set(bitmap);
  new Int32Array(out.buffer, BITMAP).set(values);
  return out;
}

test('diff finds exactly the words that differ, and gives up past max', () => {
  const diff = new PageDiff();
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const a = new Uint8Array(PAGE_SIZE);
  const b = new Uint8Array(PAGE_SIZE);
  for (const changes of [0, 1, 5, 100, 3000]) {
    for (let i = 0; i < PAGE_SIZE; i += 4) b[i] = a[i] = next() & 0xff;
    // Changes at the edges of the page and of 16-byte pieces, and anywhere.
    const at = [0, PAGE_SIZE - 1, 15, 16, ...Array.from({ length: changes }, () => next() % PAGE_SIZE)].slice(0, changes);
    for (const i of at) a[i] ^= 1 + (next() % 255);
    const expected = reference(a, b);
    const k = (expected.length - BITMAP) / 4;
    assert.equal(diff.diff(a, b, 4000), k);
    assert.deepEqual(diff.payload(k), expected);
    // Unaligned views are fine: the pages are copied in.
    assert.equal(diff.diff(copyAt(a, 1), copyAt(b, 3), 4000), k);
    if (k > 0) assert.equal(diff.diff(a, b, k - 1), -1);
    assert.equal(diff.diff(a, b, k), k);
  }
  // Without another page: the non-zero words.
  a.fill(0);
  a.set([1, 2, 3], 40000);
  assert.equal(diff.diff(a, undefined, 10), 1);
  assert.deepEqual(diff.payload(1), reference(a, undefined));
});

function copyAt(bytes: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(bytes.length + offset).subarray(offset);
  out.set(bytes);
  return out;
}
