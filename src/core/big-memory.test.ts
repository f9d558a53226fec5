// Memories of 2 GiB and more (wasm32 goes to 4 GiB): byte lengths and page offsets past 2^31 must not go through a
// signed 32-bit shift anywhere in snapshot or transfer code. The buffer is allocated lazily by the OS: only the few
// pages written here take real memory. bench/big-memory.ts migrates a real 3 GiB program.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAGE_SIZE, memoryImage } from './snapshot.js';
import { decodeTransfer, encodeTransfer } from './transfer.js';
import { testHeader } from './snapshot-header.testlib.js';

const header = testHeader({ wasi: {}, systemCalls: 0 });

test('a memory past 2 GiB is imaged, sent whole, then as a delta whose pages above 2 GiB change in place', () => {
  const memory = new Uint8Array(2 ** 31 + 4 * PAGE_SIZE);
  const high = 2 ** 31 / PAGE_SIZE + 1; // a page that starts past the sign bit of a 32-bit offset
  const page = (i: number) => memory.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
  page(high).fill(0x11);
  memory[5 * PAGE_SIZE] = 3;
  const image = memoryImage(memory);
  assert.deepEqual(image.pages.map((p) => p.index), [5, high]);
  assert.equal(image.byteLength, memory.byteLength);

  // As in singlenode: the receiver's baseline pages are views of the sender's memory, dense ones sent raw.
  const first = encodeTransfer({ header, memory: image, blobs: [] }, { compression: true });
  const got = decodeTransfer(first.chunks, () => undefined);
  assert.deepEqual(got.snapshot.memory.pages.map((p) => p.index), [5, high]);
  const held = got.baseline.memory.pages.find((p) => p.index === high)!.data;
  assert.ok(held.byteOffset >= 2 ** 31, 'the baseline page lies past 2 GiB in its buffer');
  const before = held.slice();

  // One word of the high page changes: a sparse XOR record, applied to the receiver's page in place.
  const next = new Uint8Array(memory.byteLength); // a copy written page by page: the zero pages stay untouched
  next.set(page(high), high * PAGE_SIZE);
  next[5 * PAGE_SIZE] = 3;
  next[high * PAGE_SIZE + 8] ^= 0xff;
  const delta = encodeTransfer({ header, memory: memoryImage(next), blobs: [] }, { compression: true, baseline: first.baseline });
  assert.equal(delta.stats.pagesSent, 1);
  const after = decodeTransfer(delta.chunks, (id) => (id === got.baseline.id ? got.baseline.memory : undefined));
  const changed = after.snapshot.memory.pages.find((p) => p.index === high)!.data;
  const want = before.slice();
  want[8] ^= 0xff;
  assert.deepEqual(changed, want);
});
