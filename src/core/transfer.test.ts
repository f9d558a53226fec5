import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CHECKSUM_BYTES,
  ChecksumMismatchError,
  PAGE_SIZE,
  SnapshotFormatError,
  flattenMemory,
  memoryImage,
  resealFrame,
  u32,
  type MemoryImage,
} from './snapshot.js';
import {
  MissingBaselineError,
  decodeTransfer,
  encodeTransfer,
  ownBaseline,
  transferBaselineId,
  type Baseline,
  type Compression,
} from './transfer.js';
import { concat } from './wasm-sections.js';
import { testHeader } from './snapshot-header.testlib.js';

const header = testHeader();

const MODES: Compression[] = [false, true, 'deflate'];
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
function hop(memory: Uint8Array, compression: Compression, ends?: { sender: Baseline; receiver: Baseline }) {
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
    // The records start 8-byte aligned (the header is padded), so that received pages can be read as words in place.
    assert.equal((16 + u32(whole, 12)) % 8, 0);
    if (compression === 'deflate') {
      // Text, sparse and structured pages shrink; the random page is sent as it is.
      assert.ok(stats.sentBytes < 1.5 * PAGE_SIZE, `compressed to ${stats.sentBytes} bytes`);
      assert.ok(stats.sentBytes > PAGE_SIZE);
    } else if (compression) {
      // The sparse page shrinks to its words; text, random and structured pages are dense and go as they are.
      assert.ok(stats.sentBytes > 3 * PAGE_SIZE && stats.sentBytes < 3.1 * PAGE_SIZE, `${stats.sentBytes} bytes`);
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
  const bytes = concat(encodeTransfer(snapshotOf(memory), { compression: 'deflate' }).chunks);
  const firstRecord = 16 + u32(bytes, 12);
  // Edited, then sealed with a correct checksum, as a hostile sender would: the structural checks must hold alone.
  const edited = (at: number, value: number, width: 1 | 4 = 1) => {
    const copy = bytes.slice();
    if (width === 4) new DataView(copy.buffer).setUint32(at, value, true);
    else copy[at] = value;
    return resealFrame(copy);
  };
  const cut = (end: number) => resealFrame(bytes.subarray(0, end));
  assert.throws(() => decodeTransfer(bytes.subarray(0, bytes.length - 100), noBaselines), ChecksumMismatchError);
  assert.throws(() => decodeTransfer(cut(bytes.length - 100), noBaselines), /truncated|missing end marker/);
  assert.throws(() => decodeTransfer(cut(firstRecord + 30), noBaselines), /truncated at memory page record 0/);
  assert.throws(() => decodeTransfer(edited(0, 0), noBaselines), /bad magic/);
  assert.throws(() => decodeTransfer(edited(8, 2, 4), noBaselines), /format version 2, this runtime reads 4/);
  assert.throws(() => decodeTransfer(edited(firstRecord, 6, 4), noBaselines), /page index 6 out of range/);
  assert.throws(() => decodeTransfer(edited(firstRecord + 4, 9, 4), noBaselines), /page 0 \(encoding 9\): unknown encoding/);
  // Page 0 (text) is deflated; a block type of 3 does not exist.
  assert.equal(u32(bytes, firstRecord + 4), 2, 'page 0 is deflated');
  assert.throws(() => decodeTransfer(edited(firstRecord + 12, 0xff), noBaselines), /page 0 \(deflate\): corrupt deflate data/);
  // Page 1 (random) is raw and follows page 0 (padded to a multiple of 4 bytes); cut its length.
  const second = firstRecord + 12 + ((u32(bytes, firstRecord + 8) + 3) & ~3);
  assert.equal(u32(bytes, second + 4), 0, 'page 1 is raw');
  assert.throws(() => decodeTransfer(edited(second + 8, 100, 4), noBaselines), SnapshotFormatError);
  // Page 2 (sparse): a bitmap bit without its word.
  const third = second + 12 + PAGE_SIZE;
  assert.equal(u32(bytes, third + 4), 3, 'page 2 is sparse');
  assert.throws(() => decodeTransfer(edited(third + 12 + 1, 1), noBaselines), /page 2 \(sparse\): bitmap names more words/);
  // Two records for one page.
  assert.throws(() => decodeTransfer(edited(second, 0, 4), noBaselines), /two records for page 0/);
});

/** [page index, encoding] of each record of a transfer. */
function recordsOf(chunks: Uint8Array[]): [number, number][] {
  const bytes = concat(chunks);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + u32(bytes, 12)))) as { memory: { pages: number } };
  const out: [number, number][] = [];
  for (let r = 0, at = 16 + u32(bytes, 12); r < header.memory.pages; r++) {
    out.push([u32(bytes, at), u32(bytes, at + 4)]);
    at += 12 + ((u32(bytes, at + 8) + 3) & ~3);
  }
  return out;
}

test('by default dense pages go raw and mostly-zero or barely changed ones as their words; deflate only when asked', () => {
  const memory = programMemory();
  const records = (compression: Compression, baseline?: Baseline) =>
    recordsOf(encodeTransfer(snapshotOf(memory), { compression, baseline }).chunks);
  const [RAW, ZERO, DEFLATE, SPARSE, XOR_SPARSE] = [0, 1, 2, 3, 4];
  assert.deepEqual(records(false), [[0, RAW], [1, RAW], [2, RAW], [4, RAW]]);
  assert.deepEqual(records(true), [[0, RAW], [1, RAW], [2, SPARSE], [4, RAW]]);
  assert.deepEqual(records('deflate'), [[0, DEFLATE], [1, RAW], [2, SPARSE], [4, DEFLATE]]);
  const before = programMemory();
  before[4 * PAGE_SIZE + 8] ^= 1;
  random(before.subarray(0, PAGE_SIZE)); // every word of the text page changed: a dense change
  before.fill(0, 2 * PAGE_SIZE, 3 * PAGE_SIZE);
  const baseline = { id: 'b', memory: memoryImage(before) };
  assert.deepEqual(records(true, baseline), [[0, RAW], [2, SPARSE], [4, XOR_SPARSE]]);
  assert.deepEqual(records(false, baseline), [[0, RAW], [2, RAW], [4, RAW]]);
  memory.fill(0, PAGE_SIZE, 2 * PAGE_SIZE);
  assert.deepEqual(records(true, baseline), [[0, RAW], [1, ZERO], [2, SPARSE], [4, XOR_SPARSE]]);
});

test('a delta changes the baseline pages it was given in place; a refused one leaves them as they were', () => {
  const first = hop(programMemory(), true);
  const held = first.ends.receiver.memory;
  const structured = held.pages.find((p) => p.index === 4)!.data;
  const memory = programMemory();
  memory[4 * PAGE_SIZE + 100] ^= 1;
  const { chunks } = encodeTransfer(snapshotOf(memory), { compression: true, baseline: first.ends.sender });
  // Corrupt after the record that changes page 4: the end marker. Nothing is changed.
  const whole = concat(chunks);
  const copy = flattenMemory(held);
  const corrupt = whole.slice();
  corrupt[corrupt.length - 1 - CHECKSUM_BYTES] ^= 1;
  assert.throws(() => decodeTransfer(resealFrame(corrupt), () => held), /missing end marker/);
  assert.deepEqual(flattenMemory(held), copy);
  const received = decodeTransfer(chunks, () => held);
  assert.deepEqual(flattenMemory(received.snapshot.memory), memory);
  assert.equal(received.baseline.memory.pages.find((p) => p.index === 4)!.data, structured, 'changed in place');
  assert.deepEqual(structured, memory.subarray(4 * PAGE_SIZE, 5 * PAGE_SIZE));
});

test('transfers received at any byte offset, and deltas against their pages', () => {
  for (const compression of MODES) {
    const memory = programMemory();
    const sent = encodeTransfer(snapshotOf(memory), { compression });
    const whole = concat(sent.chunks);
    const odd = new Uint8Array(whole.length + 3).subarray(3);
    odd.set(whole);
    const first = decodeTransfer(odd, noBaselines);
    assert.deepEqual(flattenMemory(first.snapshot.memory), memory);
    const next = memory.slice();
    next[PAGE_SIZE + 77] ^= 0x40;
    next[4 * PAGE_SIZE + 5] ^= 0x40;
    const delta = encodeTransfer(snapshotOf(next), { compression, baseline: { id: sent.baseline.id, memory: sent.baseline.memory } });
    const second = decodeTransfer(delta.chunks, () => first.baseline.memory);
    assert.deepEqual(flattenMemory(second.snapshot.memory), next);
    assert.deepEqual(odd, whole, 'received bytes are not written to');
  }
});

test('without the host memcmp (engines other than Node) deltas still leave unchanged pages out', async () => {
  const global = globalThis as { Buffer?: unknown };
  const saved = global.Buffer;
  let module: typeof import('./transfer.js');
  try {
    delete global.Buffer;
    // A second instance of the module, which looks for Buffer as it loads.
    module = (await import(new URL('./transfer.js?no-buffer', import.meta.url).href)) as typeof import('./transfer.js');
  } finally {
    global.Buffer = saved;
  }
  for (const compression of MODES) {
    const encode = (memory: Uint8Array, baseline?: Baseline) => module.encodeTransfer(snapshotOf(memory), { compression, baseline });
    const first = encode(programMemory());
    const memory = programMemory();
    memory[4 * PAGE_SIZE + 100] ^= 1;
    const delta = encode(memory, first.baseline);
    assert.equal(delta.stats.pagesSent, 1);
    assert.equal(delta.stats.pagesUnchanged, 3);
    const back = module.decodeTransfer(delta.chunks, () => memoryImage(programMemory()));
    assert.deepEqual(flattenMemory(back.snapshot.memory), memory);
  }
});

test('ownBaseline: the sender keeps a copy of its own, updated in place for the changed pages only', () => {
  const pages = 8;
  const memory = new Uint8Array(pages * PAGE_SIZE);
  for (let i = 0; i < memory.length; i += 97) memory[i] = (i >> 5) & 0xff || 1;
  const first = encodeTransfer({ header, memory: memoryImage(memory), blobs: [] }, { compression: true });
  const own = ownBaseline(first.baseline, undefined, first.changed);
  assert.deepEqual(flattenMemory(own.memory), memory);
  assert.equal(own.id, first.baseline.id);
  // Not a view of the memory: the program writing it again does not change the baseline.
  memory[5 * PAGE_SIZE + 12] ^= 0xff;
  memory.fill(0, 2 * PAGE_SIZE, 3 * PAGE_SIZE); // a page that becomes zero
  assert.notEqual(flattenMemory(own.memory)[5 * PAGE_SIZE + 12], memory[5 * PAGE_SIZE + 12]);
  const unchanged = own.memory.pages.find((p) => p.index === 1)!.data;
  const changedPage = own.memory.pages.find((p) => p.index === 5)!.data;
  const next = encodeTransfer({ header, memory: memoryImage(memory), blobs: [] }, { compression: true, baseline: own });
  assert.deepEqual(next.changed, [2, 5]);
  const after = ownBaseline(next.baseline, own, next.changed);
  assert.deepEqual(flattenMemory(after.memory), memory);
  assert.equal(after.memory.pages.find((p) => p.index === 1)!.data, unchanged, 'an unchanged page is the same array');
  assert.equal(after.memory.pages.find((p) => p.index === 5)!.data, changedPage, 'a changed page is updated in place');
  assert.equal(after.memory.pages.some((p) => p.index === 2), false, 'a page that became zero is dropped');
  // The receiver's side: the pages a delta changed, and the image it is against.
  const decoded = decodeTransfer(concat(next.chunks), (id) => (id === own.id ? first.baseline.memory : undefined));
  assert.deepEqual([decoded.changed, decoded.against], [[2, 5], own.id]);
});
