// TransferReceiver: a transfer fed in pieces cut anywhere (inside a record's head, a payload, the padding, the
// checksum trailer) decodes as it does whole; pages given to a sink as they arrive add up to the same memory; and
// whatever is wrong is refused at the end, before anything could run, damage as a checksum mismatch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChecksumMismatchError, PAGE_SIZE, SnapshotFormatError, flattenMemory, memoryImage, type MemoryImage } from './snapshot.js';
import { TransferReceiver, decodeTransfer, encodeTransfer, type Baseline, type Compression } from './transfer.js';
import { concat } from './wasm-sections.js';
import { testHeader } from './snapshot-header.testlib.js';

const header = testHeader();

/** Pages: dense, sparse, zero, dense, sparse, with a blob; `change` makes the next hop's memory. */
function memoryOf(change = false): Uint8Array {
  const memory = new Uint8Array(6 * PAGE_SIZE);
  for (let i = 0; i < PAGE_SIZE; i++) memory[i] = (i * 31 + 7) & 0xff;
  for (let i = PAGE_SIZE; i < 2 * PAGE_SIZE; i += 1000) memory[i] = 9;
  for (let i = 3 * PAGE_SIZE; i < 4 * PAGE_SIZE; i++) memory[i] = (i >> 3) & 0xff;
  for (let i = 4 * PAGE_SIZE; i < 5 * PAGE_SIZE; i += 4096) memory[i + 1] = 3;
  if (change) {
    memory[5] ^= 1; // a change to a dense page: xor-sparse
    memory.fill(0, PAGE_SIZE, 2 * PAGE_SIZE); // a page that became zero
    memory.fill(0x5a, 5 * PAGE_SIZE, 6 * PAGE_SIZE); // a new dense page
  }
  return memory;
}

const copyImage = (image: MemoryImage): MemoryImage => ({ byteLength: image.byteLength, pages: image.pages.map((p) => ({ index: p.index, data: p.data.slice() })) });

/** A first hop (against `base`, as against the module's initial image) and the delta after it. */
function transfers(compression: Compression) {
  const blobs = [new TextEncoder().encode('a file that travels with the program')];
  const first = encodeTransfer({ header, memory: memoryImage(memoryOf()), blobs }, { compression });
  const base: Baseline = { id: first.baseline.id, memory: copyImage(first.baseline.memory) };
  const delta = encodeTransfer({ header, memory: memoryImage(memoryOf(true)), blobs }, { compression, baseline: base });
  return [
    { name: 'whole', bytes: concat(first.chunks), chunks: first.chunks, base: undefined },
    { name: 'delta', bytes: concat(delta.chunks), chunks: delta.chunks, base },
  ];
}

/** Offsets where the encoder's chunks meet (record heads, payloads, padding, blobs, end marker, checksum). */
function boundaries(chunks: Uint8Array[]): number[] {
  const at = [0];
  for (const c of chunks) at.push(at.at(-1)! + c.byteLength);
  return at;
}

function receive(bytes: Uint8Array, cuts: number[], base: Baseline | undefined, sink?: Uint8Array) {
  const held = (id: string) => (base && id === base.id ? copyImage(base.memory) : undefined);
  const receiver = new TransferReceiver({
    baselines: held,
    totalBytes: bytes.byteLength,
    onHeader: sink && (() => ({ page: (index, data) => (data ? sink.set(data, index * PAGE_SIZE) : sink.fill(0, index * PAGE_SIZE, (index + 1) * PAGE_SIZE)) })),
  });
  let from = 0;
  for (const cut of [...cuts, bytes.byteLength]) {
    // (Each piece in a buffer of its own at an odd offset, as a network read may leave it.)
    const piece = new Uint8Array(cut - from + 1).subarray(1);
    piece.set(bytes.subarray(from, cut));
    receiver.push(piece);
    from = cut;
  }
  return receiver.end();
}

const summary = (d: ReturnType<typeof decodeTransfer>) => ({
  header: d.snapshot.header,
  memory: Buffer.from(flattenMemory(d.snapshot.memory)).toString('base64'),
  blobs: d.snapshot.blobs.map((b) => Buffer.from(b).toString('hex')),
  changed: d.changed,
  id: d.baseline.id,
});

for (const compression of [true, false, 'deflate'] as Compression[]) {
  test(`pieces cut at every awkward place decode as the whole transfer (compression ${compression})`, () => {
    for (const { name, bytes, chunks, base } of transfers(compression)) {
      const expected = summary(decodeTransfer(bytes, (id) => (base && id === base.id ? copyImage(base.memory) : undefined)));
      const cuts = new Set<number>();
      for (const b of boundaries(chunks)) for (let d = -13; d <= 13; d++) cuts.add(b + d);
      for (let c = 0; c < 64; c++) cuts.add(c); // inside the prefix and the header
      for (let c = bytes.byteLength - 24; c < bytes.byteLength; c++) cuts.add(c); // the end marker and checksum trailer
      for (const cut of [...cuts].filter((c) => c > 0 && c < bytes.byteLength).sort((a, b) => a - b)) {
        assert.deepEqual(summary(receive(bytes, [cut], base)), expected, `${name}, cut at ${cut}`);
        // Three pieces: the second one byte, or a whole record's worth.
        if (cut + 1 < bytes.byteLength) assert.deepEqual(summary(receive(bytes, [cut, cut + 1], base)), expected, `${name}, one byte at ${cut}`);
      }
      const small = Array.from({ length: Math.floor(bytes.byteLength / 4093) }, (_, i) => (i + 1) * 4093);
      assert.deepEqual(summary(receive(bytes, small, base)), expected, `${name}, pieces of 4093 bytes`);
    }
  });
}

test('a sink gets every page as its record arrives, and they add up to the decoded memory', () => {
  for (const { name, bytes, base } of transfers(true)) {
    const memory = base ? flattenMemory(base.memory) : new Uint8Array(6 * PAGE_SIZE);
    let written = 0;
    const receiver = new TransferReceiver({
      baselines: (id) => (base && id === base.id ? copyImage(base.memory) : undefined),
      onHeader: () => ({
        page: (index, data) => {
          written++;
          if (data) memory.set(data, index * PAGE_SIZE);
          else memory.fill(0, index * PAGE_SIZE, (index + 1) * PAGE_SIZE);
        },
      }),
    });
    receiver.push(bytes.subarray(0, bytes.byteLength - 40));
    const before = written;
    receiver.push(bytes.subarray(bytes.byteLength - 40));
    const decoded = receiver.end();
    assert.ok(decoded.streamed);
    assert.equal(before, decoded.changed.length, `${name}: every page written before the blobs and trailer came`);
    assert.deepEqual(memory, flattenMemory(decoded.snapshot.memory), name);
  }
});

test('a damaged stream is refused at its end: a checksum mismatch, even where a sink was written already', () => {
  const { bytes } = transfers(true)[0]!;
  for (const at of [20, 200, 5000, bytes.byteLength - 30, bytes.byteLength - 3]) {
    const damaged = bytes.slice();
    damaged[at]! ^= 0x10;
    assert.throws(() => receive(damaged, [at - 1, at + 1], undefined, new Uint8Array(6 * PAGE_SIZE)), ChecksumMismatchError, `byte ${at}`);
  }
});

test('a stream longer or shorter than declared is refused, and so is one whose header is over the limits', () => {
  const { bytes } = transfers(true)[0]!;
  const longer = new TransferReceiver({ baselines: () => undefined, totalBytes: bytes.byteLength - 1 });
  longer.push(bytes);
  assert.throws(() => longer.end(), /more than the .* bytes declared/);
  const shorter = new TransferReceiver({ baselines: () => undefined, totalBytes: bytes.byteLength + 1, checksum: 'checked' });
  shorter.push(bytes);
  assert.throws(() => shorter.end(), /received .* of the .* bytes declared/);
  let headers = 0;
  const limited = new TransferReceiver({
    baselines: () => undefined,
    limits: { maxMemoryBytes: PAGE_SIZE, maxStateBytes: 1 << 20 },
    onHeader: () => {
      headers++;
      return undefined;
    },
  });
  limited.push(bytes);
  assert.throws(() => limited.end(), (e: Error) => e instanceof SnapshotFormatError && /larger than the module's maximum/.test(e.message));
  assert.equal(headers, 0, 'no sink is asked for before the header is within the limits');
});
