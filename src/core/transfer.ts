// Snapshot transfer: the bytes that travel between nodes at a migration. Version 2 of the snapshot frame of
// snapshot.ts, whose page records may be compressed and relative to a baseline image that both ends of the hop
// already hold (the memory of the previous hop). Byte format (little endian):
//
//   "KAFUSNAP"  u32 format version 2  u32 header length  header (UTF-8 JSON, SnapshotHeader)
//   then header.memory.pages records:  u32 page index, u32 encoding, u32 payload length, payload
//   then the blobs, header.blobs[i] bytes each
//   "KAFUEND!"
//
// header.memory is { byteLength, pages: the number of records, id, baseline?: { id, byteLength, pages } }: `id`
// names the memory image this transfer carries, which both ends keep as the baseline of a later hop; `baseline`,
// when present, names the image the records are relative to (with its length and number of non-zero pages, which the
// receiver checks against its copy). Page i (bytes i·65536 to (i+1)·65536 − 1, i < byteLength / 65536) is
//   the record for i, when there is one (at most one per page);
//   else, in a delta, the baseline's page i (all zero where the baseline has none: it is sparse, or shorter);
//   else all zero.
// Each payload describes all 65536 bytes of its page, by its encoding:
//   0 raw         the page's bytes (payload length 65536)
//   1 zero        no payload: the page is all zero (a delta says so where the baseline's page is not)
//   2 deflate     raw DEFLATE (RFC 1951) of the page's bytes
//   3 sparse      a 2048-byte bitmap, bit (w & 7) of byte (w >> 3) set for each non-zero 4-byte word w of the
//                 page, then the bytes of those words in order; the other words are zero
//   4 xor-sparse  the same for the page XOR the baseline's page i (which must exist): only the words that changed
// A transfer without compression writes only encodings 0 and 1. Blobs are never compressed.
//
// Compression. fflate's deflate is pure JavaScript and slow next to copying memory; measured on one core of the
// development machine, per 64 KiB page at level 1: program text 39 MB/s to 24 % of its size, structured records
// 34 MB/s to 42 %, a computed byte pattern 60 MB/s to 17 %, random bytes 33 MB/s to 100 % (level 2: the same speed, a
// few % smaller; level 6: half the speed); inflate runs at 100–400 MB/s. A page that is mostly zero words (or, in a
// delta, whose words mostly did not change) is therefore sent sparse, which runs at memory speed and needs no
// decompressor; deflate is kept for dense pages, and only after a quick trial on a 4 KiB sample of the page says that
// it pays (random or already compressed pages go raw at the cost of deflating the sample, ~1/16 of the page).
// Result (npm run bench:transfer, 256 MB program-like image, one core): full 0.69 of the memory's size, encode 1 ms;
// full+compression 0.35, encode 3.5 s (deflate of dense pages is nearly all of it; memory_compression: false suits
// fast links), decode 0.9 s; after 5 % of the pages changed, delta 0.035 in 72 ms and delta+compression 0.002 in
// 79 ms (the changed words only), decode under 10 ms.
import { deflateSync, inflateSync } from 'fflate';
import {
  PAGE_SIZE,
  SnapshotFormatError,
  encodeFrame,
  openFrame,
  readFrameEnd,
  u32,
  type MemoryImage,
  type Snapshot,
  type SnapshotInput,
} from './snapshot.js';

export const TRANSFER_VERSION = 2;

/** A memory image both ends of a hop hold. */
export interface Baseline {
  id: string;
  memory: MemoryImage;
}

export interface TransferOptions {
  compression: boolean;
  /** Send only pages that differ from this baseline (the receiver must hold the same id). */
  baseline?: Baseline;
}

export interface TransferStats {
  /** The state that moved, uncoded: the linear memory's length plus the blobs' bytes. */
  rawBytes: number;
  /** Bytes of the transfer (all chunks). */
  sentBytes: number;
  /** Page records sent: new, changed, and (in a delta) pages that became zero. */
  pagesSent: number;
  /** Non-zero pages left out because the baseline holds them unchanged. */
  pagesUnchanged: number;
  encodeMs: number;
}

/** A delta transfer against a memory image this node does not hold (the sender should send a full one). */
export class MissingBaselineError extends SnapshotFormatError {
  constructor(readonly baselineId: string) {
    super(`kafu transfer is a delta against memory baseline ${baselineId}, which this node does not hold`);
  }
}

const RAW = 0;
const ZERO = 1;
const DEFLATE = 2;
const SPARSE = 3;
const XOR_SPARSE = 4;
const ENCODINGS = ['raw', 'zero', 'deflate', 'sparse', 'xor-sparse'];

const WORDS = PAGE_SIZE >> 2;
const BITMAP = WORDS >> 3;
/** Sparse when it is at most a quarter of the page; denser pages go to deflate. */
const SPARSE_MAX_WORDS = (PAGE_SIZE / 4 - BITMAP) >> 2;
const DEFLATE_LEVEL = 1;
/** Deflate (the sample, then the page) must save at least a tenth, or the page goes raw. */
const DEFLATE_KEEP = 0.9;
const RECORD = 12;
const MAX_PAGES = 65536;

/**
 * Encode a snapshot for the wire. Returns the chunks to send (raw pages are views of the image, not copies), stats,
 * and the new baseline both ends will hold after this hop.
 */
export function encodeTransfer(
  snapshot: SnapshotInput,
  opts: TransferOptions,
): { chunks: Uint8Array[]; stats: TransferStats; baseline: Baseline } {
  const t0 = performance.now();
  const { memory } = snapshot;
  const count = pageCount(memory.byteLength);
  const next = pageTable(memory, count);
  const base = opts.baseline && pageTable(opts.baseline.memory, pageCount(opts.baseline.memory.byteLength));
  const heads = new Uint8Array(RECORD * count);
  const headView = new DataView(heads.buffer);
  const records: Uint8Array[] = [];
  let pagesUnchanged = 0;
  for (let index = 0; index < count; index++) {
    const page = next[index];
    const was = base?.[index];
    const coded = page ? encodePage(page, was, opts.compression) : was ? zeroRecord : undefined;
    if (!coded) {
      if (page) pagesUnchanged++;
      continue;
    }
    const at = RECORD * (records.length >> 1);
    headView.setUint32(at, index, true);
    headView.setUint32(at + 4, coded[0], true);
    headView.setUint32(at + 8, coded[1].byteLength, true);
    records.push(heads.subarray(at, at + RECORD), coded[1]);
  }
  const id = newBaselineId();
  const chunks = encodeFrame(
    TRANSFER_VERSION,
    snapshot,
    {
      byteLength: memory.byteLength,
      pages: records.length >> 1,
      id,
      ...(opts.baseline && {
        baseline: {
          id: opts.baseline.id,
          byteLength: opts.baseline.memory.byteLength,
          pages: opts.baseline.memory.pages.length,
        },
      }),
    },
    records,
  );
  const stats: TransferStats = {
    rawBytes: memory.byteLength + snapshot.blobs.reduce((n, b) => n + b.byteLength, 0),
    sentBytes: chunks.reduce((n, c) => n + c.byteLength, 0),
    pagesSent: records.length >> 1,
    pagesUnchanged,
    encodeMs: performance.now() - t0,
  };
  return { chunks, stats, baseline: { id, memory } };
}

/** Which baseline a transfer needs (undefined for a full one), read from the header without decoding pages. */
export function transferBaselineId(input: Uint8Array | Uint8Array[]): string | undefined {
  return openFrame(input, [TRANSFER_VERSION]).header.memory.baseline?.id;
}

/**
 * Decode a transfer; `baselines(id)` returns the memory image held under that id, or undefined (then it throws
 * MissingBaselineError). The snapshot's unchanged pages are the baseline's, raw pages views of `input`.
 */
export function decodeTransfer(
  input: Uint8Array | Uint8Array[],
  baselines: (id: string) => MemoryImage | undefined,
): { snapshot: Snapshot; baseline: Baseline } {
  const frame = openFrame(input, [TRANSFER_VERSION]);
  const { header, reader, fail } = frame;
  const { byteLength, pages: records, baseline: ref } = header.memory;
  const id = typeof header.memory.id === 'string' && header.memory.id !== '' ? header.memory.id : fail('transfer header has no memory id');
  const count = byteLength / PAGE_SIZE;
  if (count > MAX_PAGES) fail(`memory of ${byteLength} bytes is larger than 4 GiB`);
  let base: (Uint8Array | undefined)[] | undefined;
  if (ref !== undefined) {
    if (typeof ref !== 'object' || ref === null || typeof ref.id !== 'string') fail('bad memory baseline description');
    const held = baselines(ref.id);
    if (!held) throw new MissingBaselineError(ref.id);
    if (held.byteLength !== ref.byteLength || held.pages.length !== ref.pages) {
      fail(
        `memory baseline ${ref.id} held here (${held.byteLength} bytes, ${held.pages.length} pages) is not the one ` +
          `the sender used (${ref.byteLength} bytes, ${ref.pages} pages)`,
      );
    }
    base = pageTable(held, pageCount(held.byteLength));
  }
  // Per page: a decoded page, null for a zero record, undefined (a hole) where no record came.
  const got: (Uint8Array | null)[] = new Array(count);
  for (let r = 0; r < records; r++) {
    const head = reader.read(RECORD) ?? fail(`truncated at memory page record ${r}`);
    const [index, encoding, length] = [u32(head), u32(head, 4), u32(head, 8)];
    if (index >= count) fail(`page index ${index} out of range`);
    if (got[index] !== undefined) fail(`two records for page ${index}`);
    if (length > BITMAP + PAGE_SIZE) fail(`page ${index}: record of ${length} bytes is too long`);
    const payload = reader.read(length) ?? fail(`truncated at memory page record ${r}`);
    got[index] = decodePage(index, encoding, payload, base?.[index], fail);
  }
  const image: MemoryImage = { byteLength, pages: [] };
  for (let index = 0; index < count; index++) {
    const data = got[index] === undefined ? base?.[index] : got[index];
    if (data) image.pages.push({ index, data });
  }
  const blobs = readFrameEnd(frame);
  const snapshot = { header: { ...header, memory: { byteLength, pages: image.pages.length } }, memory: image, blobs };
  return { snapshot, baseline: { id, memory: image } };
}

function pageCount(byteLength: number): number {
  if (!Number.isSafeInteger(byteLength) || byteLength < 0 || byteLength % PAGE_SIZE !== 0) {
    throw new Error('memory length is not a whole number of pages');
  }
  return byteLength / PAGE_SIZE;
}

/** The image's pages by index (holes for zero pages). */
function pageTable(image: MemoryImage, count: number): (Uint8Array | undefined)[] {
  const table: (Uint8Array | undefined)[] = new Array(count);
  for (const { index, data } of image.pages) {
    if (!Number.isInteger(index) || index < 0 || index >= count) throw new Error(`memory page ${index} out of range`);
    if (data.byteLength !== PAGE_SIZE) throw new Error(`memory page ${index} is not ${PAGE_SIZE} bytes`);
    if (table[index]) throw new Error(`memory page ${index} appears twice`);
    table[index] = data;
  }
  return table;
}

/** A page as 32-bit words: a view when aligned, else a copy (pages of received bytes may sit anywhere). */
function words(bytes: Uint8Array): Int32Array {
  return bytes.byteOffset % 4 === 0
    ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2)
    : new Int32Array(bytes.slice().buffer);
}

type Coded = readonly [encoding: number, payload: Uint8Array];
const zeroRecord: Coded = [ZERO, new Uint8Array()];

/** The record for a non-zero page, or undefined when it equals the baseline's page. */
function encodePage(page: Uint8Array, was: Uint8Array | undefined, compression: boolean): Coded | undefined {
  if (!compression) return was && equalWords(words(page), words(was)) ? undefined : [RAW, page];
  const changed = gather(words(page), was ? words(was) : ZEROS);
  if (changed === 0 && was) return undefined;
  if (changed >= 0) return [was ? XOR_SPARSE : SPARSE, gathered.slice(0, BITMAP + 4 * changed)];
  const deflated = deflatePage(page);
  return deflated ? [DEFLATE, deflated] : [RAW, page];
}

function equalWords(a: Int32Array, b: Int32Array): boolean {
  for (let w = 0; w < WORDS; w++) if (a[w] !== b[w]) return false;
  return true;
}

const ZEROS = new Int32Array(WORDS);
const gathered = new Uint8Array(BITMAP + 4 * SPARSE_MAX_WORDS);
const gatheredValues = new Int32Array(gathered.buffer, BITMAP);

/**
 * Put the sparse encoding of `a` XOR `b` into `gathered`, in one pass; returns the number of non-zero words, or -1
 * (as soon as it knows) where there are more than a sparse record holds.
 */
function gather(a: Int32Array, b: Int32Array): number {
  gathered.fill(0, 0, BITMAP);
  let k = 0;
  for (let w = 0; w < WORDS; w++) {
    const x = a[w]! ^ b[w]!;
    if (x !== 0) {
      if (k === SPARSE_MAX_WORDS) return -1;
      gathered[w >> 3]! |= 1 << (w & 7);
      gatheredValues[k++] = x;
    }
  }
  return k;
}

const sample = new Uint8Array(4096);

/** Raw DEFLATE of the page, or undefined where it would not save enough (judged on a sample first). */
function deflatePage(page: Uint8Array): Uint8Array | undefined {
  const piece = sample.length / 4;
  for (let i = 0; i < 4; i++) sample.set(page.subarray((i * PAGE_SIZE) / 4, (i * PAGE_SIZE) / 4 + piece), i * piece);
  if (deflateSync(sample, { level: DEFLATE_LEVEL }).byteLength > sample.length * DEFLATE_KEEP) return undefined;
  const out = deflateSync(page, { level: DEFLATE_LEVEL });
  return out.byteLength <= PAGE_SIZE * DEFLATE_KEEP ? out : undefined;
}

function decodePage(
  index: number,
  encoding: number,
  payload: Uint8Array,
  was: Uint8Array | undefined,
  fail: (why: string) => never,
): Uint8Array | null {
  const bad = (why: string) => fail(`page ${index} (${ENCODINGS[encoding] ?? `encoding ${encoding}`}): ${why}`);
  switch (encoding) {
    case RAW:
      return payload.byteLength === PAGE_SIZE ? payload : bad(`${payload.byteLength} bytes, not ${PAGE_SIZE}`);
    case ZERO:
      return payload.byteLength === 0 ? null : bad('has a payload');
    case DEFLATE: {
      // One spare byte: fflate stops writing at the end of `out`, so a stream that inflates to more shows as longer.
      const out = new Uint8Array(PAGE_SIZE + 1);
      let length: number;
      try {
        length = inflateSync(payload, { out }).byteLength;
      } catch (e) {
        return bad(`corrupt deflate data (${(e as Error).message})`);
      }
      return length === PAGE_SIZE ? out.subarray(0, PAGE_SIZE) : bad(`inflates to ${length} bytes, not ${PAGE_SIZE}`);
    }
    case SPARSE:
    case XOR_SPARSE: {
      if (encoding === XOR_SPARSE && !was) bad('a change to a page the baseline does not have');
      if (payload.byteLength < BITMAP || payload.byteLength % 4 !== 0) bad(`${payload.byteLength} bytes`);
      const page = encoding === XOR_SPARSE ? was!.slice() : new Uint8Array(PAGE_SIZE);
      const p = new Int32Array(page.buffer);
      const values = words(payload.subarray(BITMAP));
      let k = 0;
      for (let i = 0; i < BITMAP; i++) {
        const bits = payload[i]!;
        if (bits === 0) continue;
        for (let j = 0; j < 8; j++) {
          if (bits & (1 << j)) {
            if (k === values.length) bad('bitmap names more words than the record holds');
            p[(i << 3) | j]! ^= values[k++]!;
          }
        }
      }
      return k === values.length ? page : bad('record holds more words than its bitmap names');
    }
    default:
      return bad('unknown encoding');
  }
}

function newBaselineId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
