import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAGE_SIZE, SnapshotFormatError, flattenMemory, memoryImage, u32, type MemoryImage } from './snapshot.js';
import {
  MissingBaselineError,
  decodeTransfer,
  encodeTransfer,
  transferBaselineId,
  type Baseline,
  type TransferOptions,
} from './transfer.js';
import { concat } from './wasm-sections.js';

const header = {
  moduleSha256: 'cd'.repeat(32),
  node: 'edge',
  migration: { from: 'cloud', to: 'edge', reason: 'enter' as const, fn: 'f' },
  migrationStack: { depth: 1, frames: [{ from: 'cloud', to: 'edge', fn: 'f', depth: 1 }] },
  globals: [{ type: 'i32' as const, value: 65536 }],
  unwindArea: { ptr: 3 * PAGE_SIZE, size: PAGE_SIZE },
  wasi: { fds: [1, 2, 3] },
  resources: {},
  systemCalls: 3,
  createdBy: 'test',
};

const MODES: TransferOptions['compression'][] = [false, true];
const noBaselines = () => undefined;

/** Pseudo-random bytes, the same for the same seed. */
function random(bytes: Uint8Array, seed = bytes.byteOffset + 1) {
  for (let i = 0; i < bytes.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    bytes[i] = seed >>> 24;
  }
}

/** Pages 0 text, 1 random, 2 sparse words, 3 zero, 4 structured records, 5 zero. */
function programMemory(pages = 6): Uint8Array {
  const memory = new Uint8Array(pages * PAGE_SIZE);
  const text = new TextEncoder().encode('int main(void) { return printf("hello, %s\\n", name); }\n');
  for (let i = 0; i + text.length <= PAGE_SIZE; i += text.length) memory.set(text, i);
  random(memory.subarray(PAGE_SIZE, 2 * PAGE_SIZE));
  for (let i = 2 * PAGE_SIZE; i < 3 * PAGE_SIZE; i += 1000) memory[i] = 7;
  if (pages > 4) {
    const dv = new DataView(memory.buffer, 4 * PAGE_SIZE, PAGE_SIZE);
    for (let i = 0; i < PAGE_SIZE; i += 16) dv.setUint32(i, 0x10000 + i, true), dv.setFloat64(i + 8, i / 7, true);
  }
  return memory;
}

function snapshotOf(memory: Uint8Array, blobs: Uint8Array[] = []) {
  return { header, memory: memoryImage(memory), blobs };
}

/** Send `memory` from one end to the other; each end holds the baseline of its last hop. */
function hop(memory: Uint8Array, compression: boolean, ends?: { sender: Baseline; receiver: Baseline }) {
  const sent = encodeTransfer(snapshotOf(memory), { compression, baseline: ends?.sender });
  const received = decodeTransfer(sent.chunks, (id) => (id === ends?.receiver.id ? ends.receiver.memory : undefined));
  assert.deepEqual(flattenMemory(received.snapshot.memory), memory);
  assert.equal(received.baseline.id, sent.baseline.id);
  return { sent, received, ends: { sender: received.baseline, receiver: sent.baseline } };
}

test('full transfers round trip header, memory and blobs, also cut into arbitrary chunks', () => {
  for (const compression of MODES) {
    const memory = programMemory();
    const blob = new TextEncoder().encode('file contents');
    const { chunks, stats, baseline } = encodeTransfer(snapshotOf(memory, [blob, new Uint8Array()]), { compression });
    assert.equal(transferBaselineId(chunks), undefined);
    const whole = concat(chunks);
    assert.equal(stats.sentBytes, whole.length);
    assert.equal(stats.rawBytes, memory.length + blob.length);
    assert.equal(stats.pagesSent, 4);
    assert.equal(stats.pagesUnchanged, 0);
    const cut = [whole.subarray(0, 5), whole.subarray(5, 70001), whole.subarray(70001, 70002), whole.subarray(70002)];
    for (const input of [chunks, whole, cut]) {
      const back = decodeTransfer(input, noBaselines);
      assert.deepEqual(flattenMemory(back.snapshot.memory), memory);
      assert.deepEqual(back.snapshot.memory.pages.map((p) => p.index), [0, 1, 2, 4]);
      assert.deepEqual(back.snapshot.blobs, [blob, new Uint8Array()]);
      assert.deepEqual(back.snapshot.header.memory, { byteLength: memory.length, pages: 4 });
      assert.deepEqual({ ...back.snapshot.header, memory: undefined, blobs: undefined }, { ...header, memory: undefined, blobs: undefined });
      assert.equal(back.baseline.id, baseline.id);
      assert.equal(back.baseline.memory, back.snapshot.memory);
    }
    assert.match(baseline.id, /^[0-9a-f]{32}$/);
    if (compression) {
      // Text, sparse and structured pages shrink; the random page is sent as it is.
      assert.ok(stats.sentBytes < 1.5 * PAGE_SIZE, `compressed to ${stats.sentBytes} bytes`);
      assert.ok(stats.sentBytes > PAGE_SIZE);
    } else {
      assert.ok(stats.sentBytes > 4 * PAGE_SIZE && stats.sentBytes < 4.1 * PAGE_SIZE);
    }
  }
});

test('baseline ids are unique per transfer', () => {
  const memory = programMemory(2);
  const ids = new Set(Array.from({ length: 20 }, () => encodeTransfer(snapshotOf(memory), { compression: false }).baseline.id));
  assert.equal(ids.size, 20);
});

test('a delta sends only changed, new and now-zero pages; unchanged pages are the baseline pages', () => {
  for (const compression of MODES) {
    const first = hop(programMemory(), compression);
    const memory = programMemory();
    memory[4 * PAGE_SIZE + 100] ^= 1; // one word of the structured page changes
    random(memory.subarray(2 * PAGE_SIZE, 2 * PAGE_SIZE + 5000)); // the sparse page is partly rewritten
    memory.fill(0, 0, PAGE_SIZE); // the text page becomes zero
    memory[3 * PAGE_SIZE + 9] = 1; // a zero page gets data
    const { sent, received } = hop(memory, compression, first.ends);
    assert.equal(transferBaselineId(sent.chunks), first.ends.sender.id);
    assert.equal(sent.stats.pagesSent, 4);
    assert.equal(sent.stats.pagesUnchanged, 1);
    assert.deepEqual(received.snapshot.memory.pages.map((p) => p.index), [1, 2, 3, 4]);
    assert.equal(received.snapshot.memory.pages[0]!.data, first.ends.receiver.memory.pages[1]!.data, 'the unchanged page is not copied');
    if (compression) assert.ok(sent.stats.sentBytes < 20000, `delta of ${sent.stats.sentBytes} bytes`);
  }
});

test('a delta of unchanged memory sends no pages', () => {
  for (const compression of MODES) {
    const first = hop(programMemory(), compression);
    const { sent } = hop(programMemory(), compression, first.ends);
    assert.equal(sent.stats.pagesSent, 0);
    assert.equal(sent.stats.pagesUnchanged, 4);
    assert.ok(sent.stats.sentBytes < 1024, `${sent.stats.sentBytes} bytes`);
  }
});

test('memory that grew or shrank since the baseline', () => {
  for (const compression of MODES) {
    const first = hop(programMemory(), compression);
    const grown = new Uint8Array(12 * PAGE_SIZE);
    grown.set(programMemory());
    grown[10 * PAGE_SIZE + 5] = 5;
    random(grown.subarray(11 * PAGE_SIZE));
    const second = hop(grown, compression, first.ends);
    assert.equal(second.sent.stats.pagesSent, 2);
    const shrunk = grown.slice(0, 2 * PAGE_SIZE);
    shrunk[PAGE_SIZE] ^= 0xff;
    const third = hop(shrunk, compression, second.ends);
    assert.equal(third.sent.stats.pagesSent, 1);
    assert.equal(third.received.snapshot.memory.byteLength, 2 * PAGE_SIZE);
    assert.deepEqual(third.received.snapshot.memory.pages.map((p) => p.index), [0, 1]);
  }
});

test('memory after a chain of three deltas is the sender memory, whichever end sends', () => {
  for (const compression of MODES) {
    let { ends, received } = hop(programMemory(), compression);
    for (let i = 0; i < 3; i++) {
      // The program resumes from what arrived, runs, and is suspended again.
      const memory = new Uint8Array(flattenMemory(received.snapshot.memory).length + (i === 1 ? 2 * PAGE_SIZE : 0));
      memory.set(flattenMemory(received.snapshot.memory));
      random(memory.subarray((i + 1) * 20000, (i + 1) * 20000 + 3000));
      memory.fill(0, 4 * PAGE_SIZE, 5 * PAGE_SIZE);
      memory[(4 + i) * PAGE_SIZE + 77] = 1 + i;
      ({ ends, received } = hop(memory, compression, ends));
      assert.equal(received.snapshot.memory.byteLength, memory.byteLength);
    }
  }
});

test('a delta against a baseline the receiver lacks is refused, naming the baseline', () => {
  const first = hop(programMemory(), true);
  const { chunks } = encodeTransfer(snapshotOf(programMemory()), { compression: true, baseline: first.ends.sender });
  const id = first.ends.sender.id;
  assert.equal(transferBaselineId(chunks), id);
  assert.throws(() => decodeTransfer(chunks, noBaselines), (e: unknown) => {
    assert.ok(e instanceof MissingBaselineError && e instanceof SnapshotFormatError);
    assert.equal(e.baselineId, id);
    assert.match(e.message, new RegExp(`baseline ${id}`));
    return true;
  });
  // A held image that does not match the sender's description of it is refused too.
  const other: MemoryImage = memoryImage(programMemory(8));
  assert.throws(() => decodeTransfer(chunks, () => other), /is not the one the sender used/);
});

test('corrupt or truncated transfers are refused with a reason', () => {
  const memory = programMemory();
  const bytes = concat(encodeTransfer(snapshotOf(memory), { compression: true }).chunks);
  const firstRecord = 16 + u32(bytes, 12);
  const edited = (at: number, value: number, width: 1 | 4 = 1) => {
    const copy = bytes.slice();
    if (width === 4) new DataView(copy.buffer).setUint32(at, value, true);
    else copy[at] = value;
    return copy;
  };
  assert.throws(() => decodeTransfer(bytes.subarray(0, bytes.length - 100), noBaselines), /truncated|missing end marker/);
  assert.throws(() => decodeTransfer(bytes.subarray(0, firstRecord + 30), noBaselines), /truncated at memory page record 0/);
  assert.throws(() => decodeTransfer(edited(0, 0), noBaselines), /bad magic/);
  assert.throws(() => decodeTransfer(edited(8, 1, 4), noBaselines), /format version 1, this runtime reads 2/);
  assert.throws(() => decodeTransfer(edited(firstRecord, 6, 4), noBaselines), /page index 6 out of range/);
  assert.throws(() => decodeTransfer(edited(firstRecord + 4, 9, 4), noBaselines), /page 0 \(encoding 9\): unknown encoding/);
  // Page 0 (text) is deflated; a block type of 3 does not exist.
  assert.equal(u32(bytes, firstRecord + 4), 2, 'page 0 is deflated');
  assert.throws(() => decodeTransfer(edited(firstRecord + 12, 0xff), noBaselines), /page 0 \(deflate\): corrupt deflate data/);
  // Page 1 (random) is raw and follows page 0; cut its length.
  const second = firstRecord + 12 + u32(bytes, firstRecord + 8);
  assert.equal(u32(bytes, second + 4), 0, 'page 1 is raw');
  assert.throws(() => decodeTransfer(edited(second + 8, 100, 4), noBaselines), SnapshotFormatError);
  // Page 2 (sparse): a bitmap bit without its word.
  const third = second + 12 + PAGE_SIZE;
  assert.equal(u32(bytes, third + 4), 3, 'page 2 is sparse');
  assert.throws(() => decodeTransfer(edited(third + 12 + 1, 1), noBaselines), /page 2 \(sparse\): bitmap names more words/);
  // Two records for one page.
  assert.throws(() => decodeTransfer(edited(second, 0, 4), noBaselines), /two records for page 0/);
});
