import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ChecksumMismatchError,
  FrameChecksum,
  PAGE_SIZE,
  SnapshotFormatError,
  decodeSnapshot,
  encodeSnapshot,
  flattenMemory,
  memoryImage,
  resealFrame,
  snapshotByteLength,
  u32,
  type FrameLimits,
} from './snapshot.js';
import { concat } from './wasm-sections.js';
import { testHeader } from './snapshot-header.testlib.js';

const header = testHeader({
  moduleSha256: 'ab'.repeat(32),
  globals: [
    { type: 'i32', value: 65536 },
    { type: 'i64', value: '-9007199254740993' },
  ],
  systemCalls: 12,
  resumeValue: 0,
});

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

test('a flipped bit anywhere is a checksum mismatch; fed in pieces of any size, the checksum is the same', () => {
  const memory = new Uint8Array(3 * PAGE_SIZE).map((_, i) => (i * 13) % 251);
  const bytes = concat(encodeSnapshot({ header, memory: memoryImage(memory), blobs: [new Uint8Array(5)] }));
  for (const at of [12, 20, 16 + 100, bytes.length >> 1, bytes.length - 9, bytes.length - 1]) {
    const flipped = bytes.slice();
    flipped[at]! ^= 4;
    assert.throws(() => decodeSnapshot(flipped), ChecksumMismatchError, `bit flipped at ${at}`);
  }
  for (const step of [1, 3, 7, 8, 9, 4096, 1 << 20]) {
    const sum = new FrameChecksum();
    for (let at = 0; at < bytes.length; at += step) sum.update(bytes.subarray(at, at + step));
    assert.ok(sum.matches(), `pieces of ${step} bytes`);
  }
  const damaged = new FrameChecksum();
  damaged.update(bytes.subarray(0, 100));
  damaged.update(new Uint8Array([bytes[100]! ^ 1]));
  damaged.update(bytes.subarray(101));
  assert.ok(!damaged.matches());
});

test('hostile headers and lengths are refused before anything is allocated for them', () => {
  const memory = new Uint8Array(2 * PAGE_SIZE).fill(1);
  const bytes = concat(encodeSnapshot({ header, memory: memoryImage(memory), blobs: [new Uint8Array(5)] }));
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + u32(bytes, 12)))) as Record<string, unknown>;
  const withHeader = (h: unknown) => {
    const text = new TextEncoder().encode(JSON.stringify(h).padEnd(Math.ceil(JSON.stringify(h).length / 8) * 8));
    const pre = bytes.slice(0, 16);
    new DataView(pre.buffer).setUint32(12, text.length, true);
    return resealFrame(concat([pre, text, bytes.subarray(16 + u32(bytes, 12))]));
  };
  const refused = (h: unknown, why: RegExp, limits?: FrameLimits) =>
    assert.throws(() => decodeSnapshot(withHeader(h), limits), (e: unknown) => e instanceof SnapshotFormatError && why.test(e.message));
  refused({ ...json, blobs: [2 ** 40] }, /library-OS state of \d+ bytes is over the limit of 1073741824/);
  refused({ ...json, blobs: [10_000_000] }, /blobs of 10000000 bytes, but only \d+ bytes follow the header/);
  refused({ ...json, blobs: [-1] }, /header field blobs\.0: /);
  refused({ ...json, memory: { byteLength: 2 ** 32 + PAGE_SIZE, pages: 2 } }, /header field memory\.byteLength: /);
  refused({ ...json, memory: { byteLength: 2 ** 32, pages: 2 } }, /memory of 4294967296 bytes is larger than the module's maximum \(4194304\)/, {
    maxMemoryBytes: 4 << 20,
    maxStateBytes: 1 << 20,
  });
  refused({ ...json, memory: { byteLength: PAGE_SIZE, pages: 2 } }, /2 page records for a memory of 1 pages/);
  refused({ ...json, globals: 'x' }, /header field globals: /);
  refused({ ...json, globals: [{ type: 'i64', value: '1e9' }] }, /header field globals\.0/);
  refused({ ...json, moduleSha256: 'x' }, /header field moduleSha256: not a SHA-256 in hex/);
  refused([], /header field \(root\)/);
  refused({ ...json, extra: 1 }, /header field : |Unrecognized key/);
  assert.throws(() => decodeSnapshot(withHeader(json), { maxMemoryBytes: 2 ** 32, maxStateBytes: 64 }), /header of \d+ bytes is over the limit of 64/);
  // A header length far past the end, and a page given twice.
  const long = bytes.slice();
  new DataView(long.buffer).setUint32(12, 0xfffffff0, true);
  assert.throws(() => decodeSnapshot(resealFrame(long)), /header of 4294967280 bytes is over the limit|truncated header/);
  const twice = bytes.slice();
  const second = 16 + u32(bytes, 12) + 4 + PAGE_SIZE;
  new DataView(twice.buffer).setUint32(second, 0, true);
  assert.throws(() => decodeSnapshot(resealFrame(twice)), /page 0 out of order or given twice/);
});
