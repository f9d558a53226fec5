// The snapshot: everything needed to resume a suspended program in a fresh instance of the same module, on any
// engine. Byte format (little endian), version 3:
//
//   "KAFUSNAP"  u32 format version  u32 header length  header (UTF-8 JSON, SnapshotHeader, padded with spaces to a
//   multiple of 8 bytes)
//   then header.memory.pages records:  u32 page index, 65536 bytes   (all-zero pages are left out; ascending index)
//   then the blobs, header.blobs[i] bytes each (file contents that travel with the program, …)
//   "KAFUEND!"  8 bytes: XXH64 (seed 0, big endian as hash-wasm writes it) of every byte before them
//
// The header is self-describing JSON so any engine or language can read it; memory follows as independent page
// records so that a writer can stream them and a reader can apply them one by one (no whole-heap copies).
// Version 4, the same frame with compressed page records relative to a baseline image, is what travels between
// nodes and what `.kafusnap` files hold: see transfer.ts. (Versions 1 and 2 were the same without the checksum.)
//
// Every byte of a frame is hostile: decoding checks the checksum first, then the header's shape (snapshot-header.ts)
// and every length, count and index against FrameLimits before it allocates or indexes anything with it.
import { createXXHash64 } from 'hash-wasm';
import { UserError } from './errors.js';
import type { Migration, MigrationStackState } from './migration-stack.js';
import { DEFAULT_MAX_STATE_BYTES, MAX_MEMORY_BYTES, checkHeader } from './snapshot-header.js';
import type { UnwindArea } from './unwind-area.js';

export const SNAPSHOT_VERSION = 3;
export const PAGE_SIZE = 65536;
const MAGIC = new TextEncoder().encode('KAFUSNAP');
const END = new TextEncoder().encode('KAFUEND!');

export type GlobalValue = { type: 'i32' | 'f32' | 'f64'; value: number } | { type: 'i64'; value: string };

export interface SnapshotHeader {
  /** SHA-256 (hex) of the module bytes; a node refuses a snapshot of another module. */
  moduleSha256: string;
  /** Node that resumes the program. */
  node: string;
  migration?: Migration;
  migrationStack: MigrationStackState;
  /** When suspended right after a WASI call: the value that call returned, handed back on resume. */
  resumeValue?: number;
  /** WASI calls made so far (drives forced migrations every N calls). */
  systemCalls: number;
  globals: GlobalValue[];
  unwindArea: UnwindArea;
  /** Library OS state (src/wasi), opaque to the core. */
  wasi: unknown;
  /** Host resources beyond WASI fds (mounts that follow the program, wasi-nn graphs, …) by name. */
  resources: Record<string, unknown>;
  /** Byte lengths of the blobs after the memory pages; resources refer to them by index. */
  blobs: number[];
  /**
   * Linear memory: `pages` page records follow the header. In version 2 (a transfer, src/core/transfer.ts) `id`
   * names this image and `baseline`, when given, the image the records are a delta against.
   */
  memory: { byteLength: number; pages: number; id?: string; baseline?: BaselineRef };
  createdBy: string;
}

/** A memory image a transfer is a delta against, as the header describes it (the receiver checks its own copy). */
export interface BaselineRef {
  id: string;
  byteLength: number;
  /** Its number of non-zero pages. */
  pages: number;
}

/** Linear memory as its non-zero pages (views, not copies: of the suspended instance, or of received chunks). */
export interface MemoryImage {
  byteLength: number;
  pages: { index: number; data: Uint8Array }[];
}

export interface Snapshot {
  header: SnapshotHeader;
  memory: MemoryImage;
  blobs: Uint8Array[];
}

/** Bytes or contents that are not a snapshot this runtime restores: said in one line, like a user's mistake. */
export class SnapshotFormatError extends UserError {
  override name = 'SnapshotFormatError';
}

/** The checksum does not match the bytes: damaged at rest or in transit (or by a bug). */
export class ChecksumMismatchError extends SnapshotFormatError {
  constructor() {
    super('checksum mismatch: the snapshot is damaged');
  }
}

/** What a receiver accepts: a snapshot over these is refused before anything is allocated for it. */
export interface FrameLimits {
  /** Largest linear memory: the module's maximum (wasm32: 4 GiB). */
  maxMemoryBytes: number;
  /** Largest library-OS state: the JSON header plus the blobs (file contents) that travel with the program. */
  maxStateBytes: number;
}

export const DEFAULT_LIMITS: FrameLimits = { maxMemoryBytes: MAX_MEMORY_BYTES, maxStateBytes: DEFAULT_MAX_STATE_BYTES };

/**
 * XXH64 (hash-wasm: WebAssembly, any engine) of a frame. Chosen by measurement on the development machine, one core,
 * 64 MiB: xxhash64 25–31 ms (2.1–2.7 GB/s), xxh3 29–35 ms, xxh128 28–43 ms, crc32 60 ms, Node's SHA-256 49 ms and
 * MD5 116 ms (not engine-neutral either). A migration pays it once on each side, over the bytes sent only (a delta
 * is small): bench:transfer prints the cost.
 */
const hasher = await createXXHash64();
export const CHECKSUM_BYTES = 8;

/** The checksum of the bytes of `chunks` taken in order (the first `byteLength`). Exported for bench:transfer. */
export function checksum(chunks: Uint8Array[], byteLength = Infinity): Uint8Array {
  hasher.init();
  let left = byteLength;
  for (const c of chunks) {
    if (left <= 0) break;
    hasher.update(left >= c.byteLength ? c : c.subarray(0, left));
    left -= c.byteLength;
  }
  return hasher.digest('binary');
}

/**
 * A frame's checksum over its bytes as they arrive, in pieces of any size: the last CHECKSUM_BYTES seen are the
 * trailer the rest is checked against. A receiver feeds it while the bytes stream in, so that checking costs no
 * time after the last byte (decodeTransfer is then told the frame is checked). Several may be fed by turns: each
 * keeps its own hash state.
 */
export class FrameChecksum {
  private state: Uint8Array;
  /** The last bytes seen (at most CHECKSUM_BYTES): not hashed yet, as they may be the trailer. */
  private tail = new Uint8Array(0);

  constructor() {
    hasher.init();
    this.state = hasher.save();
  }

  update(piece: Uint8Array): void {
    hasher.load(this.state);
    if (piece.byteLength >= CHECKSUM_BYTES) {
      hasher.update(this.tail);
      hasher.update(piece.subarray(0, piece.byteLength - CHECKSUM_BYTES));
      this.tail = piece.slice(piece.byteLength - CHECKSUM_BYTES);
    } else {
      const joined = new Uint8Array(this.tail.byteLength + piece.byteLength);
      joined.set(this.tail);
      joined.set(piece, this.tail.byteLength);
      const keep = Math.max(0, joined.byteLength - CHECKSUM_BYTES);
      hasher.update(joined.subarray(0, keep));
      this.tail = joined.slice(keep);
    }
    this.state = hasher.save();
  }

  /** The checksum of the bytes so far but the last CHECKSUM_BYTES (a sender's trailer, written after them). */
  digest(): Uint8Array {
    hasher.load(this.state);
    return hasher.digest('binary');
  }

  /** Whether the bytes so far end with the checksum of the bytes before it. */
  matches(): boolean {
    if (this.tail.byteLength < CHECKSUM_BYTES) return false;
    const expected = this.digest();
    return expected.every((b, i) => this.tail[i] === b);
  }
}

/** Whether the last CHECKSUM_BYTES of the input are the checksum of the rest. */
function checksumMatches(chunks: Uint8Array[]): boolean {
  const sum = new FrameChecksum();
  for (const c of chunks) sum.update(c);
  return sum.matches();
}

/**
 * Test and fuzz support: the same bytes with a correct checksum, so that a deliberately edited frame reaches the
 * structural checks (as a hostile sender's would: the checksum catches damage, not malice).
 */
export function resealFrame(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  if (out.byteLength >= CHECKSUM_BYTES) out.set(checksum([out], out.byteLength - CHECKSUM_BYTES), out.byteLength - CHECKSUM_BYTES);
  return out;
}

/** The non-zero pages of `memory` (a view of a suspended instance's memory, which nobody writes any more). */
export function memoryImage(memory: Uint8Array): MemoryImage {
  if (memory.byteLength % PAGE_SIZE !== 0) throw new Error('memory length is not a whole number of pages');
  if (memory.byteOffset % 4 !== 0) throw new Error('memory view must be 4-byte aligned');
  // A division, not >> 2: memories of 2 GiB and more have lengths past the sign bit of a 32-bit shift.
  const words = new Int32Array(memory.buffer, memory.byteOffset, memory.byteLength / 4);
  const pages: MemoryImage['pages'] = [];
  const perPage = PAGE_SIZE >> 2;
  for (let index = 0, w = 0; w < words.length; index++, w += perPage) {
    let end = w;
    const stop = w + perPage;
    while (end < stop && words[end] === 0) end++;
    if (end < stop) pages.push({ index, data: memory.subarray(index * PAGE_SIZE, (index + 1) * PAGE_SIZE) });
  }
  return { byteLength: memory.byteLength, pages };
}

/** The whole memory as one array (tests, tools); the runtime writes pages straight into an instance instead. */
export function flattenMemory(image: MemoryImage): Uint8Array {
  const out = new Uint8Array(image.byteLength);
  for (const p of image.pages) out.set(p.data, p.index * PAGE_SIZE);
  return out;
}

/** A snapshot as the runtime hands it over: the header's memory and blob descriptions are derived on encoding. */
export type SnapshotInput = Omit<Snapshot, 'header'> & { header: Omit<SnapshotHeader, 'memory' | 'blobs'> };

/** Encode as a list of chunks; page payloads are the image's views, not copies. */
export function encodeSnapshot(snapshot: SnapshotInput): Uint8Array[] {
  const { memory, blobs } = snapshot;
  const pageChunks: Uint8Array[] = [];
  for (const { index, data } of memory.pages) {
    if (data.byteLength !== PAGE_SIZE) throw new Error(`memory page ${index} is not ${PAGE_SIZE} bytes`);
    const idx = new Uint8Array(4);
    new DataView(idx.buffer).setUint32(0, index, true);
    pageChunks.push(idx, data);
  }
  return encodeFrame(SNAPSHOT_VERSION, snapshot, { byteLength: memory.byteLength, pages: memory.pages.length }, pageChunks);
}

/** The frame shared by every version: magic, version, JSON header, the memory records, the blobs, end marker. */
export function encodeFrame(
  version: number,
  snapshot: SnapshotInput,
  memory: SnapshotHeader['memory'],
  memoryChunks: Uint8Array[],
  /** false: the trailer is left zero, for whoever copies the chunks to write as it goes (FrameChecksum.digest). */
  sealed = true,
): Uint8Array[] {
  const { blobs } = snapshot;
  const header: SnapshotHeader = { ...snapshot.header, memory, blobs: blobs.map((b) => b.byteLength) };
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Spaces pad the header to a multiple of 8 bytes, so that the records of a transfer received in one buffer start
  // 4-byte aligned and its pages can be read as words in place.
  if (json.length % 8 !== 0) {
    const padded = new Uint8Array(json.length + 8 - (json.length % 8)).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const pre = new Uint8Array(16);
  pre.set(MAGIC);
  const dv = new DataView(pre.buffer);
  dv.setUint32(8, version, true);
  dv.setUint32(12, json.length, true);
  const chunks = [pre, json, ...memoryChunks, ...blobs, END];
  chunks.push(sealed ? checksum(chunks) : new Uint8Array(CHECKSUM_BYTES));
  return chunks;
}

export function snapshotByteLength(chunks: Uint8Array[]): number {
  return chunks.reduce((n, c) => n + c.length, 0);
}

/** Reads a byte stream delivered in arbitrary chunks; returns views where a read lies within one chunk. */
export class ChunkReader {
  private chunk = 0;
  private offset = 0;
  /** Bytes not read yet: a read of more is refused before it allocates anything. */
  private left: number;
  constructor(private readonly chunks: Uint8Array[]) {
    this.left = snapshotByteLength(chunks);
  }

  get remaining(): number {
    return this.left;
  }

  /** The next n bytes (a view where they lie within one chunk), or undefined where fewer are left. */
  read(n: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.left) return undefined;
    this.left -= n;
    return this.take(n);
  }

  /** Move past n bytes (at most what is left). */
  skip(n: number): void {
    n = Math.min(n, this.left);
    this.left -= n;
    while (n > 0) {
      const c = this.chunks[this.chunk]!;
      const step = Math.min(n, c.length - this.offset);
      this.offset += step;
      n -= step;
      if (this.offset === c.length) {
        this.chunk++;
        this.offset = 0;
      }
    }
    return undefined;
  }

  private take(n: number): Uint8Array | undefined {
    while (this.chunk < this.chunks.length && this.offset === this.chunks[this.chunk]!.length) {
      this.chunk++;
      this.offset = 0;
    }
    const first = this.chunks[this.chunk];
    if (n === 0) return new Uint8Array();
    if (!first) return undefined;
    if (first.length - this.offset >= n) {
      const view = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[this.chunk];
      if (!c) return undefined;
      const take = Math.min(n - filled, c.length - this.offset);
      out.set(c.subarray(this.offset, this.offset + take), filled);
      filled += take;
      this.offset += take;
      if (this.offset === c.length) {
        this.chunk++;
        this.offset = 0;
      }
    }
    return out;
  }

  atEnd(): boolean {
    return this.left === 0;
  }
}

export const u32 = (b: Uint8Array, at = 0) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);

/** An opened frame: its version and header, and the reader positioned at the first memory record. */
export interface OpenedFrame {
  version: number;
  header: SnapshotHeader;
  reader: ChunkReader;
  fail: (why: string) => never;
}

/**
 * How openFrame treats the checksum: 'check' it; the caller has 'checked' it already (FrameChecksum, as the bytes
 * arrived); or 'skip' it for a look at the header before the whole frame is decoded (which checks it).
 */
export type ChecksumMode = 'check' | 'checked' | 'skip';

/** Refuse a frame that breaks the format, saying where. */
export function invalidFrame(why: string): never {
  throw new SnapshotFormatError(`not a valid kafu snapshot: ${why}`);
}

/** Check magic, version (one of `versions`) and checksum, and read the JSON header, its shape and its sizes against `limits`. */
export function openFrame(
  input: Uint8Array | Uint8Array[],
  versions: number[],
  limits: FrameLimits = DEFAULT_LIMITS,
  checksumMode: ChecksumMode = 'check',
): OpenedFrame {
  const chunks = Array.isArray(input) ? input : [input];
  const reader = new ChunkReader(chunks);
  const fail = invalidFrame;
  const size = reader.remaining;
  const { version, headerBytes } = readPrefix(reader.read(PREFIX_BYTES) ?? fail('bad magic'), versions, fail);
  if (size < MIN_FRAME_BYTES) fail('truncated');
  if (checksumMode === 'check' && !checksumMatches(chunks)) throw new ChecksumMismatchError();
  checkHeaderBytes(headerBytes, limits, fail);
  const header = readHeader(reader.read(headerBytes) ?? fail('truncated header'), limits, fail, reader.remaining);
  return { version, header, reader, fail };
}

/** The fixed start of a frame: magic, u32 version, u32 header length. */
export const PREFIX_BYTES = 16;
/** The smallest frame: the prefix, the end marker and the checksum. */
export const MIN_FRAME_BYTES = PREFIX_BYTES + 8 + CHECKSUM_BYTES;

/** A frame's first PREFIX_BYTES: the magic, a version among `versions`, and the header's length. */
export function readPrefix(pre: Uint8Array, versions: number[], fail: (why: string) => never): { version: number; headerBytes: number } {
  if (!MAGIC.every((b, i) => pre[i] === b)) fail('bad magic');
  const version = u32(pre, 8);
  if (!versions.includes(version)) fail(`format version ${version}, this runtime reads ${versions.join(' and ')}`);
  return { version, headerBytes: u32(pre, 12) };
}

/** A header length is checked before its bytes are kept. */
export function checkHeaderBytes(headerBytes: number, limits: FrameLimits, fail: (why: string) => never): void {
  if (headerBytes > limits.maxStateBytes) fail(`header of ${headerBytes} bytes is over the limit of ${limits.maxStateBytes} for library-OS state`);
}

/**
 * The JSON header: its shape, and its sizes against `limits`. `following`: how many bytes follow the header, where
 * that is known (a frame read whole, or a stream that declared its length).
 */
export function readHeader(json: Uint8Array, limits: FrameLimits, fail: (why: string) => never, following?: number): SnapshotHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(json));
  } catch {
    return fail('header is not JSON');
  }
  const checked = checkHeader(parsed);
  if ('error' in checked) return fail(checked.error);
  const { header } = checked;
  const { byteLength, pages } = header.memory;
  if (byteLength > limits.maxMemoryBytes) fail(`memory of ${byteLength} bytes is larger than the module's maximum (${limits.maxMemoryBytes})`);
  if (pages > byteLength / PAGE_SIZE) fail(`${pages} page records for a memory of ${byteLength / PAGE_SIZE} pages`);
  const state = header.blobs.reduce((n, b) => n + b, json.byteLength);
  if (state > limits.maxStateBytes) fail(`library-OS state of ${state} bytes is over the limit of ${limits.maxStateBytes}`);
  const blobs = state - json.byteLength;
  if (following !== undefined && blobs > following) fail(`blobs of ${blobs} bytes, but only ${following} bytes follow the header`);
  return header;
}

/** Read the blobs, the end marker and the checksum (checked by openFrame) that close a frame. */
export function readFrameEnd({ header, reader, fail }: Omit<OpenedFrame, 'version'>): Uint8Array[] {
  const blobs: Uint8Array[] = [];
  for (const length of header.blobs) blobs.push(reader.read(length) ?? fail(`truncated in blob ${blobs.length}`));
  const end = reader.read(END.length) ?? fail('missing end marker');
  if (!END.every((b, i) => end[i] === b) || !reader.read(CHECKSUM_BYTES) || !reader.atEnd()) fail('missing end marker');
  return blobs;
}

export function decodeSnapshot(input: Uint8Array | Uint8Array[], limits: FrameLimits = DEFAULT_LIMITS): Snapshot {
  const frame = openFrame(input, [SNAPSHOT_VERSION], limits);
  const { header, reader, fail } = frame;
  const { byteLength, pages } = header.memory;
  const image: MemoryImage = { byteLength, pages: [] };
  for (let i = 0, next = 0; i < pages; i++) {
    const idx = reader.read(4) ?? fail(`truncated at memory page record ${i}`);
    const index = u32(idx);
    if ((index + 1) * PAGE_SIZE > byteLength) fail(`page index ${index} out of range`);
    if (index < next) fail(`page ${index} out of order or given twice`);
    next = index + 1;
    image.pages.push({ index, data: reader.read(PAGE_SIZE) ?? fail(`truncated at memory page record ${i}`) });
  }
  return { header, memory: image, blobs: readFrameEnd(frame) };
}
