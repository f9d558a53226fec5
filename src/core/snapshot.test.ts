import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAGE_SIZE, SnapshotFormatError, decodeSnapshot, encodeSnapshot, flattenMemory, memoryImage, snapshotByteLength } from './snapshot.js';
import { concat } from './wasm-sections.js';

const header = {
  moduleSha256: 'ab'.repeat(32),
  node: 'edge',
  migration: { from: 'cloud', to: 'edge', reason: 'enter' as const, fn: 'f' },
  migrationStack: { depth: 1, frames: [{ from: 'cloud', to: 'edge', fn: 'f', depth: 1 }] },
  globals: [
    { type: 'i32' as const, value: 65536 },
    { type: 'i64' as const, value: '-9007199254740993' },
  ],
  unwindArea: { ptr: 3 * PAGE_SIZE, size: PAGE_SIZE },
  wasi: { fds: [1, 2, 3] },
  resources: {},
  systemCalls: 12,
  resumeValue: 0,
  createdBy: 'test',
};

test('round trip keeps header and memory; zero pages are not stored', () => {
  const memory = new Uint8Array(8 * PAGE_SIZE);
  memory[5] = 1;
  memory[3 * PAGE_SIZE + 17] = 0xee;
  memory[8 * PAGE_SIZE - 1] = 9;
  const blob = new TextEncoder().encode('file contents');
  const chunks = encodeSnapshot({ header, memory: memoryImage(memory), blobs: [blob, new Uint8Array()] });
  assert.ok(snapshotByteLength(chunks) < 4 * PAGE_SIZE, 'only three non-zero pages are stored');
  const back = decodeSnapshot(chunks);
  assert.deepEqual(flattenMemory(back.memory), memory);
  assert.deepEqual(back.memory.pages.map((p) => p.index), [0, 3, 7]);
  // The same bytes cut into arbitrary chunks (as a network delivers them) decode the same.
  const whole = concat(chunks);
  const cut = [whole.subarray(0, 3), whole.subarray(3, 70000), whole.subarray(70000, 70001), whole.subarray(70001)];
  assert.deepEqual(flattenMemory(decodeSnapshot(cut).memory), memory);
  assert.deepEqual(back.blobs, [blob, new Uint8Array()]);
  assert.deepEqual({ ...back.header, memory: undefined, blobs: undefined }, { ...header, memory: undefined, blobs: undefined });
  assert.deepEqual(back.header.memory, { byteLength: 8 * PAGE_SIZE, pages: 3 });
});

test('corrupt or truncated bytes are refused with a reason', () => {
  const memory = new Uint8Array(2 * PAGE_SIZE).fill(7);
  const bytes = concat(encodeSnapshot({ header, memory: memoryImage(memory), blobs: [] }));
  assert.throws(() => decodeSnapshot(bytes.subarray(0, bytes.length - 100)), SnapshotFormatError);
  const bad = bytes.slice();
  bad[0] = 0;
  assert.throws(() => decodeSnapshot(bad), /bad magic/);
  const future = bytes.slice();
  future[8] = 99;
  assert.throws(() => decodeSnapshot(future), /format version 99/);
});
