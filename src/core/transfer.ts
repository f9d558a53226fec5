// Snapshot transfer: the bytes that travel between nodes at a migration. Version 4 of the snapshot frame of
// snapshot.ts, whose page records may be encoded and relative to a baseline image that both ends of the hop
// already hold (the memory of the previous hop). Byte format (little endian):
//
//   "KAFUSNAP"  u32 format version 4  u32 header length  header (UTF-8 JSON, SnapshotHeader, padded with spaces to
//   a multiple of 8 bytes)
//   then header.memory.pages records:  u32 page index, u32 encoding, u32 payload length, payload, then zero bytes
//   up to a multiple of 4 (only a deflate payload needs them)
//   then the blobs, header.blobs[i] bytes each
//   "KAFUEND!"  8 bytes: XXH64 of every byte before them (snapshot.ts: why this hash; it costs a pass over the bytes
//   sent on each side, bench:transfer)
//
// (Version 2 was the same without the checksum.) So in a transfer received in one aligned buffer every payload starts 4-byte aligned and is read as words in place.
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
// Blobs are never encoded.
//
// Which encodings a sender writes is TransferOptions.compression (cluster.migration.memory_compression):
//   false      raw and zero only;
//   true       (the default) also sparse and xor-sparse, where the record is at most a quarter of the page: they
//              run at memory speed, and so does everything else on this path;
//   'deflate'  also deflate for dense pages that shrink by a tenth or more (judged on a 4 KiB sample first).
// No compressor is on the default path because none available to JavaScript keeps up with a migration on a fast
// link. Per 64 KiB page of program-like data on one core of the development machine: fflate's deflate (level 1)
// 33–60 MB/s, lz4-wasm-nodejs (lz4_flex built to WebAssembly) 250–300 MB/s on text and structured records, the pure
// JavaScript LZ4 and Snappy ports (lz4js, snappyjs) and hysnappy (WebAssembly) 110–200 MB/s; meanwhile a whole
// 256 MB snapshot migrates on loopback in ~0.2 s, most of it writing pages into the fresh instance. Deflate halves
// program-like memory (0.34 of its size against 0.65 with `true`, bench:transfer) but costs ~3.5 s to encode and
// ~0.9 s to decode 256 MB: it pays where the link is slower than ~150 Mbit/s, for a first hop (deltas are small
// either way).
//
// Speed. Most of a delta's time is telling which pages changed: the host's memcmp (Node's Buffer.compare) tells an
// unchanged page at memory speed, and a changed one goes to PageDiff (page-diff.ts, WebAssembly SIMD), which finds
// its changed words. A page with no baseline is counted only where a sample of its words says it may be mostly zero.
// The receiver applies a delta to its baseline's pages in place, so the one copy of the memory made at a hop is the
// one into the resumed instance (GuestInstance.resume), which the program then changes while the baseline stays.
// npm run bench:transfer, 256 MB program-like image, one core: first hop with `true` 0.65 of the memory's size
// in 9 ms, decode 4 ms (raw pages are views; `false` 0.69 in 1 ms); after 5 % of the pages changed, a delta
// 0.002 in 18 ms, decode 1 ms (before the checksum). The checksum (XXH64, version 4) adds one pass over the bytes
// sent to each side: 64 MB image, first hop with `true`, 42 MB sent, ~11 ms on a busy 2-core machine; a delta's
// ~0.1 ms. A kafu serve receiver computes it as the bytes arrive (FrameChecksum), so there it is off the downtime.
// Decoding is transfer-decode.ts: it reads a transfer as its pieces arrive, so that a first hop's pages can be
// written into the receiving instance before the last byte. npm run bench:migrate (the README) measures whole
// migrations; bench:hop what streaming a first hop saves.
import { deflateSync } from 'fflate';
import { BITMAP, PageDiff } from './page-diff.js';
import { randomHex } from './random-id.js';
import {
  CHECKSUM_BYTES,
  DEFAULT_LIMITS,
  PAGE_SIZE,
  encodeFrame,
  openFrame,
  type FrameLimits,
  type MemoryImage,
  type SnapshotHeader,
  type SnapshotInput,
} from './snapshot.js';
import {
  RAW,
  RECORD,
  SPARSE,
  TRANSFER_VERSION,
  XOR_SPARSE,
  ZERO,
  DEFLATE,
  aligned,
  pageCount,
  pageTable,
  recordWriter,
  wordViews,
  type Baseline,
} from './transfer-format.js';

export { TRANSFER_VERSION, type Baseline } from './transfer-format.js';
export { MissingBaselineError, TransferReceiver, decodeTransfer, type DecodedTransfer, type PageSink, type ReceiveOptions } from './transfer-decode.js';


/**
 * A first hop to a node is a delta against the memory a fresh instance of the module starts with (its data
 * segments, guest.ts GuestModule.initialBaseline), which every node builds: no page equal to it is sent.
 */
export { INITIAL_BASELINE_ID } from './guest.js';


/**
 * false: raw and zero records only. true (the default): also sparse and xor-sparse, which run at memory speed.
 * 'deflate': also deflate for dense pages that shrink, at tens of MB/s a core: for slow links only.
 */
export type Compression = boolean | 'deflate';

export interface TransferOptions {
  compression: Compression;
  /** Send only pages that differ from this baseline (the receiver must hold the same id). */
  baseline?: Baseline;
  /**
   * Leave the checksum trailer zero: the caller computes it while it copies the chunks (serve/migrate-body.ts
   * bodyParts, `seal`), so that a hop's first bytes need not wait for a pass over all of them (~25 ms for 64 MiB).
   */
  unsealed?: boolean;
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

const WORDS = PAGE_SIZE >> 2;
/** Sparse when it is at most a quarter of the page; denser pages go raw (or to deflate). */
const SPARSE_MAX_WORDS = (PAGE_SIZE / 4 - BITMAP) >> 2;
const DEFLATE_LEVEL = 1;
/** Deflate (the sample, then the page) must save at least a tenth, or the page goes raw. */
const DEFLATE_KEEP = 0.9;
/** Sparse payloads are copied into buffers of this size, not one allocation each. */
const ARENA = 1 << 20;
/** The first arena buffer: a small hop's payloads fit. */
const ARENA_FIRST = 16 << 10;

/**
 * Encode a snapshot for the wire. Returns the chunks to send (raw pages are views of the image, not copies), stats,
 * and the new baseline both ends will hold after this hop: the snapshot's image itself, which must not change.
 */
export function encodeTransfer(
  snapshot: SnapshotInput,
  opts: TransferOptions,
): { chunks: Uint8Array[]; stats: TransferStats; baseline: Baseline; changed: number[]; raw: Map<number, Uint8Array> } {
  const t0 = performance.now();
  const { memory } = snapshot;
  const { compression } = opts;
  const count = pageCount(memory.byteLength);
  const next = pageTable(memory, count);
  const base = opts.baseline && pageTable(opts.baseline.memory, pageCount(opts.baseline.memory.byteLength));
  const records: Uint8Array[] = [];
  const write = recordWriter(count, records);
  const words = wordViews();
  const arena = new Arena();
  let pages = 0;
  let pagesUnchanged = 0;
  const changed: number[] = [];
  const raw = new Map<number, Uint8Array>();
  const push = (index: number, encoding: number, payload: Uint8Array) => {
    changed.push(index);
    if (encoding === RAW) raw.set(index, payload);
    pages++;
    write(index, encoding, payload);
  };
  for (let index = 0; index < count; index++) {
    const was = base?.[index];
    const page = next[index];
    if (!page) {
      if (was) push(index, ZERO, EMPTY);
      continue;
    }
    // Most pages of a delta did not change: the host's memcmp tells that fastest, where there is one.
    if (was && hostCompare?.(page, was) === 0) {
      pagesUnchanged++;
      continue;
    }
    if (compression === false) {
      if (was && !hostCompare && diff().diff(page, was, 0) === 0) pagesUnchanged++;
      else push(index, RAW, page);
      continue;
    }
    // A page the baseline lacks is sparse only if it is mostly zero, which a sample of its words often rules out.
    const k = was || !dense(page, words) ? diff().diff(page, was, SPARSE_MAX_WORDS) : -1;
    if (k === 0 && was) pagesUnchanged++;
    else if (k >= 0) push(index, was ? XOR_SPARSE : SPARSE, arena.copy(diff().payload(k)));
    else {
      const deflated = compression === 'deflate' ? deflatePage(page) : undefined;
      push(index, deflated ? DEFLATE : RAW, deflated ?? page);
    }
  }
  const id = newBaselineId();
  const chunks = encodeFrame(
    TRANSFER_VERSION,
    snapshot,
    {
      byteLength: memory.byteLength,
      pages,
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
    !opts.unsealed,
  );
  const stats: TransferStats = {
    rawBytes: memory.byteLength + snapshot.blobs.reduce((n, b) => n + b.byteLength, 0),
    sentBytes: chunks.reduce((n, c) => n + c.byteLength, 0),
    pagesSent: pages,
    pagesUnchanged,
    encodeMs: performance.now() - t0,
  };
  return { chunks, stats, baseline: { id, memory }, changed, raw };
}

/**
 * The baseline a sender keeps after a hop, in memory of its own: encodeTransfer's `next` is a view of the suspended
 * instance's memory, which the program changes again when it runs there. After a delta against `previous` (which
 * this takes over: its pages are updated in place) only the `changed` pages are copied; else every page is.
 * `sent.at(index)`: the page's bytes as they were sent, in `sent.bytes` bytes of the caller's that nothing else will
 * change (the buffer a hop's bytes were copied into, handed back once they are out: serve/worker.ts). Where the
 * changed pages that `previous` lacks, which would be copies, are at least half of those bytes, they are views of
 * them instead (`sent.kept` says how many): a first hop then copies the memory once, not twice, and what a baseline
 * holds on to stays within twice its pages.
 */
export function ownBaseline(next: Baseline, previous: Baseline | undefined, changed: number[], sent?: SentPages): Baseline {
  const count = pageCount(next.memory.byteLength);
  const now = pageTable(next.memory, count);
  const arena = new Arena(PAGE_SIZE * 16);
  const table = previous ? pageTable(previous.memory, count) : new Array<Uint8Array | undefined>(count);
  table.length = count;
  const indices = previous ? changed : [...now.keys()];
  const views = sent ? indices.filter((i) => now[i] && !table[i] && sent.at(i)).length : 0;
  const keep = sent !== undefined && 2 * views * PAGE_SIZE >= sent.bytes;
  if (sent) sent.kept = keep ? views : 0;
  const own = (index: number, data: Uint8Array, into: Uint8Array | undefined) => {
    if (into) {
      into.set(data);
      return into;
    }
    return (keep && sent.at(index)) || arena.copy(data);
  };
  for (const index of indices) {
    const data = now[index];
    table[index] = data && own(index, data, table[index]);
  }
  const pages: MemoryImage['pages'] = [];
  table.forEach((data, index) => data && pages.push({ index, data }));
  return { id: next.id, memory: { byteLength: next.memory.byteLength, pages } };
}

/** Pages of a hop as they were sent (ownBaseline). */
export interface SentPages {
  at: (index: number) => Uint8Array | undefined;
  /** The bytes they lie in (views of them keep all of it). */
  bytes: number;
  /** Set by ownBaseline: how many became the baseline's pages. */
  kept?: number;
}

/**
 * A transfer's header (module, destination node, migration …), checked against `limits` but read without decoding
 * pages or checking the checksum (decodeTransfer does both).
 */
export function transferHeader(input: Uint8Array | Uint8Array[], limits: FrameLimits = DEFAULT_LIMITS): SnapshotHeader {
  return openFrame(input, [TRANSFER_VERSION], limits, 'skip').header;
}

/** Which baseline a transfer needs (undefined for a full one), read from the header without decoding pages. */
export function transferBaselineId(input: Uint8Array | Uint8Array[], limits?: FrameLimits): string | undefined {
  return transferHeader(input, limits).memory.baseline?.id;
}

/**
 * The most bytes a transfer within `limits` can take: the state, and for each page of the largest memory the
 * longest record decodeTransfer accepts. A receiver refuses a declared or streamed size over it.
 */
export function maxTransferBytes(limits: FrameLimits): number {
  const records = (limits.maxMemoryBytes / PAGE_SIZE) * (RECORD + BITMAP + PAGE_SIZE);
  return 16 + limits.maxStateBytes + records + 8 + CHECKSUM_BYTES;
}

const EMPTY = new Uint8Array();

/**
 * The host's memcmp where it has one (Node's Buffer.compare, which takes any Uint8Array): it tells that a page did not
 * change at memory speed, several times faster than a typed-array loop and twice as fast as PageDiff with its copies.
 */
const hostCompare = (globalThis as { Buffer?: { compare?: (a: Uint8Array, b: Uint8Array) => number } }).Buffer?.compare;

let pageDiff: PageDiff | undefined;
const diff = () => (pageDiff ??= new PageDiff());

/**
 * Whether more of the page's words are non-zero than a sparse record holds. Every 256th word first: where more than
 * half of those are non-zero the page is taken as dense without reading the rest (it could be sparse only if its
 * data clustered just where the sample looks), else the words are counted, as far as it takes.
 */

function dense(page: Uint8Array, words: (bytes: Uint8Array) => Int32Array): boolean {
  const bytes = aligned(page);
  const view = words(bytes);
  const at = bytes.byteOffset / 4;
  let n = 0;
  for (let w = at; w < at + WORDS; w += 256) if (view[w] !== 0) n++;
  if (n > WORDS / 256 / 2) return true;
  n = 0;
  for (let w = at; w < at + WORDS; w++) if (view[w] !== 0 && ++n > SPARSE_MAX_WORDS) return true;
  return false;
}

/**
 * Copies of payloads, packed into shared buffers: the first small, each next one twice as large up to `size`. (A
 * fixed 1 MiB buffer, zeroed and faulted in, was most of a small hop's encoding time.)
 */
class Arena {
  private bytes = EMPTY;
  private at = 0;
  private next = ARENA_FIRST;

  constructor(private readonly size = ARENA) {}

  copy(payload: Uint8Array): Uint8Array {
    if (this.at + payload.byteLength > this.bytes.byteLength) {
      [this.bytes, this.at] = [new Uint8Array(Math.max(Math.min(this.next, this.size), payload.byteLength)), 0];
      this.next *= 2;
    }
    const copy = this.bytes.subarray(this.at, this.at + payload.byteLength);
    copy.set(payload);
    this.at += payload.byteLength;
    return copy;
  }
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

export function newBaselineId(): string {
  return randomHex(16);
}
