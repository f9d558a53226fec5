// Migrate data messages encoded once (src/serve/migrate-body.ts) are what protobufjs makes of a MigrateChunk: the
// receiver, which decodes them with the .proto, gets the snapshot's bytes back in order, whatever the pieces were;
// the same buffer serves as the direct hand-off transport's DATA frames.
import * as protoLoader from '@grpc/proto-loader';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameType, HEADER_BYTES } from '../../src/serve/handoff-frames.js';
import { MIGRATE_CHUNK_BYTES, bodyBytes, bodyParts, buffersOf, migrateBody, useHeads } from '../../src/serve/migrate-body.js';
import { PROTO_PATH } from '../../src/serve/protocol.js';

const migrate = (protoLoader.loadSync(PROTO_PATH, { keepCase: false, longs: Number, defaults: true, oneofs: true })['kafu.v1.KafuNode'] as protoLoader.ServiceDefinition).Migrate!;

/** `n` bytes of a pattern, cut into pieces of the given sizes (the rest in a last one). */
function pieces(n: number, sizes: number[]): { whole: Uint8Array; parts: Uint8Array[] } {
  const whole = new Uint8Array(n).map((_, i) => (i * 31 + (i >> 16)) & 0xff);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const s of sizes) {
    parts.push(whole.subarray(at, Math.min(n, at + s)));
    at = Math.min(n, at + s);
  }
  parts.push(whole.subarray(at));
  return { whole, parts };
}

test('Migrate messages encoded once decode as MigrateChunk data, in order, for any pieces', () => {
  const cases: [number, number[]][] = [
    [1, []],
    [127, [0, 5]],
    [128, [128]],
    [16_384, [1, 16_382]],
    [MIGRATE_CHUNK_BYTES, [3, MIGRATE_CHUNK_BYTES - 10]],
    [MIGRATE_CHUNK_BYTES + 1, [MIGRATE_CHUNK_BYTES]],
    [2 * MIGRATE_CHUNK_BYTES + 70_000, [65_536, 65_536, 0, 1_500_000, 7]],
  ];
  for (const [n, sizes] of cases) {
    const { whole, parts } = pieces(n, sizes);
    const body = migrateBody(parts);
    assert.equal(body.byteLength, n);
    assert.equal(body.messages.length, Math.ceil(n / MIGRATE_CHUNK_BYTES), `${n} bytes: messages`);
    assert.equal(buffersOf(body.messages).length, 1, 'one buffer to move between threads');
    const received = new Uint8Array(n);
    let at = 0;
    for (const m of body.messages) {
      const chunk = migrate.requestDeserialize(Buffer.from(m)) as { data?: Uint8Array; part?: string };
      assert.equal(chunk.part, 'data');
      assert.ok(chunk.data!.byteLength <= MIGRATE_CHUNK_BYTES);
      received.set(chunk.data!, at);
      at += chunk.data!.byteLength;
    }
    assert.equal(at, n);
    assert.deepEqual(received, whole, `${n} bytes in pieces ${sizes.join(',')}: the same bytes`);
    assert.deepEqual(bodyBytes(body), whole);
    // As DATA frames of the direct hand-off transport: the same payloads behind a frame header, and back.
    useHeads(body, 'frames');
    let from = 0;
    for (const m of body.messages) {
      assert.equal(m[0], FrameType.DATA);
      const length = new DataView(m.buffer, m.byteOffset).getUint32(1);
      assert.equal(length, m.byteLength - HEADER_BYTES);
      assert.deepEqual(m.subarray(HEADER_BYTES), whole.subarray(from, from + length));
      from += length;
    }
    useHeads(body, 'grpc');
    assert.deepEqual(new Uint8Array((migrate.requestDeserialize(Buffer.from(body.messages[0]!)) as { data: Uint8Array }).data), whole.subarray(0, Math.min(n, MIGRATE_CHUNK_BYTES)));
  }
});

test('chunks to keep whole (raw pages) lie in one piece of the buffer, 4-byte aligned, and the bytes are the same', () => {
  const page = (i: number) => new Uint8Array(65_536).fill(i);
  // A header, records of 12-byte heads and pages, an odd-sized blob bigger than a message, an end marker.
  const heads = Array.from({ length: 40 }, (_, i) => new Uint8Array(12).fill(200 + (i % 50)));
  const pages = Array.from({ length: 40 }, (_, i) => page(i + 1));
  const blob = new Uint8Array(MIGRATE_CHUNK_BYTES + 12_345).fill(9);
  const chunks = [new Uint8Array(24).fill(5), ...heads.flatMap((h, i) => [h, pages[i]!]), blob, new Uint8Array(8).fill(3)];
  const whole = new Set(pages);
  const body = migrateBody(chunks, whole);
  const expected = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  chunks.reduce((at, c) => (expected.set(c, at), at + c.byteLength), 0);
  assert.deepEqual(bodyBytes(body), expected);
  assert.equal(buffersOf(body.messages).length, 1);
  assert.equal(body.placed.size, pages.length, 'every page placed');
  const buffer = new Uint8Array(body.messages[0]!.buffer);
  for (const p of pages) {
    const at = body.placed.get(p)!;
    assert.equal(at % 4, 0);
    assert.deepEqual(buffer.subarray(at, at + p.byteLength), p);
    // Within one message's payload.
    assert.ok(body.messages.some((m) => m.byteOffset + 5 <= at && at + p.byteLength <= m.byteOffset + m.byteLength));
  }
  for (const m of body.messages) {
    assert.ok(m.byteLength - 5 <= MIGRATE_CHUNK_BYTES);
    assert.equal((m.byteOffset + 5) % 4, 0, 'payloads start aligned');
  }
  // Each message decodes as MigrateChunk data.
  let at = 0;
  for (const m of body.messages) {
    const data = (migrate.requestDeserialize(Buffer.from(m)) as { data: Uint8Array }).data;
    assert.deepEqual(new Uint8Array(data), expected.subarray(at, at + data.byteLength));
    at += data.byteLength;
  }
  assert.equal(at, expected.byteLength);
});

test('a body sealed as it is copied carries the checksum the transfer would have had, in parts of any size', async () => {
  const { encodeTransfer } = await import('../../src/core/transfer.js');
  const { checksum, CHECKSUM_BYTES } = await import('../../src/core/snapshot.js');
  const mem = new Uint8Array(40 * 65_536).map((_, i) => (i % 3 === 0 ? (i * 7) & 0xff : 0));
  const pages = Array.from({ length: 40 }, (_, index) => ({ index, data: mem.subarray(index * 65_536, (index + 1) * 65_536) }));
  const snapshot = { header: { module: 'm', node: 'cloud' }, memory: { byteLength: mem.byteLength, pages }, blobs: [new Uint8Array(3).fill(1)] } as never;
  const { chunks } = encodeTransfer(snapshot, { compression: false, unsealed: true });
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  chunks.reduce((at, c) => (bytes.set(c, at), at + c.byteLength), 0);
  assert.deepEqual(bytes.subarray(bytes.byteLength - CHECKSUM_BYTES), new Uint8Array(CHECKSUM_BYTES), 'left zero');
  const expected = checksum([bytes.subarray(0, bytes.byteLength - CHECKSUM_BYTES)]);
  for (const partBytes of [1, 100_000, 1 << 20, Infinity]) {
    const body = [...bodyParts(chunks, partBytes, undefined, undefined, true)].flatMap((p) => p.messages);
    const sent = bodyBytes({ messages: body, byteLength: bytes.byteLength });
    assert.deepEqual(sent.subarray(sent.byteLength - CHECKSUM_BYTES), expected, `parts of ${partBytes}`);
    assert.deepEqual(sent.subarray(0, sent.byteLength - CHECKSUM_BYTES), bytes.subarray(0, bytes.byteLength - CHECKSUM_BYTES));
  }
});
