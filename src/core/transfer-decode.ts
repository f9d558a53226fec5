// Decoding a transfer (the format: transfer.ts) as its bytes arrive, in pieces cut anywhere. TransferReceiver reads
// the header as soon as it is complete, then each page record as soon as it is complete, and checks it at once
// (index, length, encoding, bitmap); decodeTransfer is the same fed with every piece at once.
//
// Why streaming: a first hop of a large heap was received whole, then decoded, then written into the memory of the
// instance the program resumes in (its first touch of each page costing a page fault): ~70 ms for 64 MiB after the
// last byte. A receiver that knows the header can grow that memory at once and write each page as its record
// arrives, so that only the end's checks and the rewind are left when the last byte comes.
//
// What may be written before the frame is verified is the caller's choice (`onHeader` returns a PageSink or not):
// a page written early is written before the checksum and the end of the frame are seen, so it must go where a
// refusal loses nothing (serve/worker.ts: an instance nobody ran, never the parked one that holds the program's
// last image, and a baseline that is a fresh copy). Without a sink every record is checked as it arrives but applied
// only once the whole frame is verified, so that a refused transfer leaves the baseline as it was.
//
// Errors: a broken prefix (magic, version) is said at once; anything found later is kept, and the end reports a
// checksum mismatch instead where the checksum does not match (damage, not malice, is then the likelier cause), as
// a decoder that checks the checksum first would.
import { inflateSync } from 'fflate';
import { BITMAP } from './page-diff.js';
import {
  ChecksumMismatchError,
  ChunkReader,
  DEFAULT_LIMITS,
  FrameChecksum,
  MIN_FRAME_BYTES,
  PAGE_SIZE,
  PREFIX_BYTES,
  SnapshotFormatError,
  checkHeaderBytes,
  invalidFrame,
  readFrameEnd,
  readHeader,
  readPrefix,
  type ChecksumMode,
  type FrameLimits,
  type MemoryImage,
  type Snapshot,
  type SnapshotHeader,
} from './snapshot.js';
import {
  DEFLATE,
  ENCODINGS,
  NONE,
  RAW,
  RECORD,
  SPARSE,
  TRANSFER_VERSION,
  XOR_SPARSE,
  ZERO,
  aligned,
  le32,
  pageCount,
  pageTable,
  wordViews,
  type Baseline,
} from './transfer-format.js';

/** A delta transfer against a memory image this node does not hold (the sender should send a full one). */
export class MissingBaselineError extends SnapshotFormatError {
  constructor(readonly baselineId: string) {
    super(`kafu transfer is a delta against memory baseline ${baselineId}, which this node does not hold`);
  }
}

/** A decoded transfer. */
export interface DecodedTransfer {
  snapshot: Snapshot;
  /** The image this transfer carries, under its id: the baseline of a later delta. */
  baseline: Baseline;
  /** The pages with a record: the only ones that differ from the baseline `against` (a delta's). */
  changed: number[];
  against?: string;
  /** Whether the pages went to a PageSink as they arrived (onHeader returned one). */
  streamed: boolean;
}

/** Where a receiver writes each page as soon as its record is checked: all 65536 bytes, or zero (undefined). */
export interface PageSink {
  page(index: number, data: Uint8Array | undefined): void;
}

export interface ReceiveOptions {
  /** The memory image held under an id, or undefined (the transfer is then refused: MissingBaselineError). */
  baselines: (id: string) => MemoryImage | undefined;
  limits?: FrameLimits;
  /** 'check' computes the checksum as the bytes arrive; 'checked' (or 'skip'): the caller has checked it. */
  checksum?: ChecksumMode;
  /** The transfer's length where it was declared ahead: a piece past it, or an end short of it, is refused. */
  totalBytes?: number;
  /**
   * Called once the header is read and checked, with the id of the baseline the records are against (undefined for
   * a full transfer): a sink to write pages into as they arrive, or undefined to apply them once all is verified.
   * With a sink, a delta's changes are made to the baseline's pages as they arrive: give one only where that
   * baseline (and whatever the sink writes into) may be lost on a refusal.
   */
  onHeader?: (header: SnapshotHeader, against: string | undefined) => PageSink | undefined;
}

type Stage = 'prefix' | 'header' | 'record' | 'payload' | 'tail';

/** Decodes a transfer fed in pieces (push), then verified and assembled by end(). */
export class TransferReceiver {
  private readonly queue = new PieceQueue();
  private readonly limits: FrameLimits;
  private readonly sum: FrameChecksum | undefined;
  private received = 0;
  private stage: Stage = 'prefix';
  private headerBytes = 0;
  private header: SnapshotHeader | undefined;
  private id = '';
  private count = 0;
  private records = 0;
  private record = 0;
  /** The record being read (its head is). */
  private index = 0;
  private encoding = 0;
  private length = 0;
  private base: (Uint8Array | undefined)[] | undefined;
  private encodings = new Uint8Array(0);
  /** Each recorded page's payload, then (once built) its data; ZERO pages hold none. */
  private payloads: (Uint8Array | undefined)[] = [];
  private readonly words = wordViews();
  private sink: PageSink | undefined;
  /** An error found after the prefix: reported by end() unless the checksum fails. */
  private error: unknown;
  /** A broken prefix, or more bytes than declared: reported by end() before anything else. */
  private prefixError: unknown;
  private ended = false;

  constructor(private readonly o: ReceiveOptions) {
    this.limits = o.limits ?? DEFAULT_LIMITS;
    this.sum = (o.checksum ?? 'check') === 'check' ? new FrameChecksum() : undefined;
  }

  /** The header, once read and checked. */
  get headerRead(): SnapshotHeader | undefined {
    return this.header;
  }

  /** The next bytes of the transfer (kept as views, not copied, where a record lies within one piece). */
  push(piece: Uint8Array): void {
    if (this.ended) throw new Error('kafu: a transfer piece after its end');
    this.received += piece.byteLength;
    this.sum?.update(piece);
    if (this.error !== undefined || this.prefixError !== undefined) return; // nothing more is kept
    if (this.o.totalBytes !== undefined && this.received > this.o.totalBytes) {
      this.prefixError = new SnapshotFormatError(`not a valid kafu snapshot: more than the ${this.o.totalBytes} bytes declared`);
      this.queue.clear();
      return;
    }
    this.queue.push(piece);
    try {
      this.parse();
    } catch (e) {
      if (this.stage === 'prefix') this.prefixError = e;
      else this.error = e;
      this.queue.clear();
    }
  }

  /** Verify the whole (checksum, length, every record, the blobs and end marker) and assemble the snapshot. */
  end(): DecodedTransfer {
    if (this.ended) throw new Error('kafu: a transfer ended twice');
    this.ended = true;
    const fail = invalidFrame;
    if (this.prefixError !== undefined) throw this.prefixError;
    if (this.stage === 'prefix') fail('bad magic');
    if (this.received < MIN_FRAME_BYTES) fail('truncated');
    if (this.sum && !this.sum.matches()) throw new ChecksumMismatchError();
    if (this.error !== undefined) throw this.error;
    if (this.o.totalBytes !== undefined && this.received !== this.o.totalBytes) fail(`received ${this.received} of the ${this.o.totalBytes} bytes declared`);
    if (this.stage === 'header') fail('truncated header');
    if (this.stage !== 'tail') fail(`truncated at memory page record ${this.record}`);
    const header = this.header!;
    const blobs = readFrameEnd({ header, reader: new ChunkReader(this.queue.rest()), fail });
    const { byteLength } = header.memory;
    const image: MemoryImage = { byteLength, pages: [] };
    const changed: number[] = [];
    for (let index = 0; index < this.count; index++) {
      const encoding = this.encodings[index]!;
      let data: Uint8Array | undefined;
      if (encoding === NONE) data = this.base?.[index];
      else {
        changed.push(index);
        data = this.sink ? this.payloads[index] : this.build(index, encoding, this.payloads[index]);
      }
      if (data) image.pages.push({ index, data });
    }
    const snapshot = { header: { ...header, memory: { byteLength, pages: image.pages.length } }, memory: image, blobs };
    return { snapshot, baseline: { id: this.id, memory: image }, changed, against: header.memory.baseline?.id, streamed: this.sink !== undefined };
  }

  private parse(): void {
    const q = this.queue;
    const fail = invalidFrame;
    for (;;) {
      switch (this.stage) {
        case 'prefix': {
          if (q.length < PREFIX_BYTES) return;
          this.headerBytes = readPrefix(q.take(PREFIX_BYTES), [TRANSFER_VERSION], fail).headerBytes;
          this.stage = 'header';
          checkHeaderBytes(this.headerBytes, this.limits, fail);
          break;
        }
        case 'header': {
          if (q.length < this.headerBytes) return;
          const following = this.o.totalBytes === undefined ? undefined : this.o.totalBytes - PREFIX_BYTES - this.headerBytes;
          this.openHeader(readHeader(q.take(this.headerBytes), this.limits, fail, following));
          break;
        }
        case 'record': {
          if (q.length < RECORD) return;
          // (Read in place: nothing is allocated for a record but its payload's view, which the image keeps.)
          const [index, encoding, length] = [q.u32(0), q.u32(4), q.u32(8)];
          q.skip(RECORD);
          if (index >= this.count) fail(`page index ${index} out of range`);
          if (this.encodings[index] !== NONE) fail(`two records for page ${index}`);
          if (length > BITMAP + PAGE_SIZE) fail(`page ${index}: record of ${length} bytes is too long`);
          [this.index, this.encoding, this.length] = [index, encoding, length];
          this.stage = 'payload';
          break;
        }
        case 'payload': {
          const { index, encoding, length } = this;
          const padding = length % 4 === 0 ? 0 : 4 - (length % 4);
          if (q.length < length + padding) return;
          const payload = q.take(length);
          q.skip(padding);
          const data = this.check(index, encoding, payload);
          this.encodings[index] = encoding;
          this.payloads[index] = this.sink ? this.build(index, encoding, data) : data;
          if (this.sink) this.sink.page(index, this.payloads[index]);
          this.stage = ++this.record < this.records ? 'record' : 'tail';
          break;
        }
        case 'tail':
          return; // the blobs, end marker and checksum stay queued for end()
      }
    }
  }

  private openHeader(header: SnapshotHeader): void {
    const { byteLength, pages, baseline: ref } = header.memory;
    this.id = header.memory.id ?? invalidFrame('transfer header has no memory id');
    this.header = header;
    this.count = byteLength / PAGE_SIZE;
    this.records = pages;
    this.encodings = new Uint8Array(this.count).fill(NONE);
    this.payloads = new Array(this.count);
    if (ref !== undefined) {
      const held = this.o.baselines(ref.id);
      if (!held) throw new MissingBaselineError(ref.id);
      if (held.byteLength !== ref.byteLength || held.pages.length !== ref.pages) {
        invalidFrame(
          `memory baseline ${ref.id} held here (${held.byteLength} bytes, ${held.pages.length} pages) is not the one ` +
            `the sender used (${ref.byteLength} bytes, ${ref.pages} pages)`,
        );
      }
      this.base = pageTable(held, pageCount(held.byteLength));
    }
    this.sink = this.o.onHeader?.(header, ref?.id);
    this.stage = this.records > 0 ? 'record' : 'tail';
  }

  /** A record's payload checked against its encoding: the page's data (raw, inflated) or the sparse payload. */
  private check(index: number, encoding: number, payload: Uint8Array): Uint8Array | undefined {
    const { length } = this;
    const bad = (why: string) => invalidFrame(`page ${index} (${ENCODINGS[encoding] ?? `encoding ${encoding}`}): ${why}`);
    switch (encoding) {
      case RAW:
        if (length !== PAGE_SIZE) bad(`${length} bytes, not ${PAGE_SIZE}`);
        return payload;
      case ZERO:
        if (length !== 0) bad('has a payload');
        return undefined;
      case DEFLATE:
        return inflatePage(payload, bad);
      case SPARSE:
      case XOR_SPARSE: {
        if (encoding === XOR_SPARSE && !this.base?.[index]) bad('a change to a page the baseline does not have');
        if (length < BITMAP || length % 4 !== 0) bad(`${length} bytes`);
        const data = aligned(payload);
        const named = bitsSet(this.words(data), data.byteOffset / 4);
        if (named > (length - BITMAP) >> 2) bad('bitmap names more words than the record holds');
        if (named < (length - BITMAP) >> 2) bad('record holds more words than its bitmap names');
        return data;
      }
      default:
        return bad('unknown encoding');
    }
  }

  /** A checked record's page: a sparse change is made to a new page or to the baseline's page itself. */
  private build(index: number, encoding: number, payload: Uint8Array | undefined): Uint8Array | undefined {
    if (encoding !== SPARSE && encoding !== XOR_SPARSE) return payload;
    // (The baseline's page is copied first only where it is not 4-byte aligned.)
    const data = encoding === SPARSE ? new Uint8Array(PAGE_SIZE) : aligned(this.base![index]!);
    scatter(this.words(payload!), payload!.byteOffset / 4, this.words(data), data.byteOffset / 4);
    return data;
  }
}

/**
 * Decode a transfer received whole (`checksum`: see ChecksumMode); `baselines(id)` returns the memory image held
 * under that id, or undefined (then it throws MissingBaselineError). The snapshot's raw pages are views of `input`,
 * its unchanged pages the baseline's.
 *
 * A delta takes the baseline over: the pages it changes are changed in place, not copied, so the image passed in
 * becomes the new one and the caller keeps the returned baseline instead of it. Every record is checked before any
 * page is touched: a transfer refused with an error leaves the baseline as it was.
 */
export function decodeTransfer(
  input: Uint8Array | Uint8Array[],
  baselines: (id: string) => MemoryImage | undefined,
  limits: FrameLimits = DEFAULT_LIMITS,
  checksum: ChecksumMode = 'check',
): DecodedTransfer {
  const pieces = Array.isArray(input) ? input : [input];
  const receiver = new TransferReceiver({ baselines, limits, checksum, totalBytes: pieces.reduce((n, p) => n + p.byteLength, 0) });
  for (const piece of pieces) receiver.push(piece);
  return receiver.end();
}

const EMPTY = new Uint8Array(0);

/** Pieces of a byte stream, consumed from the front: a read within one piece is a view, across pieces a copy. */
class PieceQueue {
  private pieces: Uint8Array[] = [];
  /** Bytes of pieces[0] consumed. */
  private offset = 0;
  length = 0;

  push(piece: Uint8Array): void {
    if (piece.byteLength === 0) return;
    this.pieces.push(piece);
    this.length += piece.byteLength;
  }

  /** The little-endian u32 `at` bytes from the front (at + 4 at most `length`), not consumed. */
  u32(at: number): number {
    const first = this.pieces[0]!;
    const from = this.offset + at;
    if (from + 4 <= first.byteLength) return le32(first, from);
    let value = 0;
    for (let i = 3; i >= 0; i--) value = (value << 8) | this.byteAt(at + i);
    return value >>> 0;
  }

  /** Consume the next n bytes (at most `length`). */
  skip(n: number): void {
    this.length -= n;
    while (n > 0) {
      const step = Math.min(n, this.pieces[0]!.byteLength - this.offset);
      this.advance(step);
      n -= step;
    }
  }

  private byteAt(at: number): number {
    let k = this.offset + at;
    for (const piece of this.pieces) {
      if (k < piece.byteLength) return piece[k]!;
      k -= piece.byteLength;
    }
    throw new Error('kafu: a read past the queued bytes');
  }

  /** The next n bytes (at most `length`), consumed. */
  take(n: number): Uint8Array {
    this.length -= n;
    const first = this.pieces[0];
    if (n === 0 || !first) return EMPTY;
    if (first.byteLength - this.offset >= n) {
      const view = first.subarray(this.offset, this.offset + n);
      this.advance(n);
      return view;
    }
    const out = new Uint8Array(n);
    for (let filled = 0; filled < n; ) {
      const piece = this.pieces[0]!;
      const step = Math.min(n - filled, piece.byteLength - this.offset);
      out.set(piece.subarray(this.offset, this.offset + step), filled);
      filled += step;
      this.advance(step);
    }
    return out;
  }

  /** Every byte not consumed, as views. */
  rest(): Uint8Array[] {
    const rest = this.pieces.map((p, i) => (i === 0 ? p.subarray(this.offset) : p));
    this.clear();
    return rest;
  }

  clear(): void {
    this.pieces = [];
    this.offset = 0;
    this.length = 0;
  }

  private advance(n: number): void {
    this.offset += n;
    if (this.offset === this.pieces[0]!.byteLength) {
      this.pieces.shift();
      this.offset = 0;
    }
  }
}

/** The number of bits set in a sparse payload's bitmap (the payload's words from w). */
function bitsSet(words: Int32Array, w: number): number {
  let n = 0;
  for (let i = w; i < w + (BITMAP >> 2); i++) {
    let x = words[i]!;
    if (x === 0) continue;
    x -= (x >>> 1) & 0x55555555;
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    n += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
  }
  return n;
}

/** XOR the words of a sparse payload (checked: its bitmap names as many words as it holds) into a page. */
function scatter(payload: Int32Array, pw: number, page: Int32Array, at: number): void {
  let k = pw + (BITMAP >> 2);
  for (let i = 0; i < BITMAP >> 2; i++) {
    // Bit j of bitmap word i (read little endian, as the format's bytes are) is page word 32·i + j.
    for (let bits = payload[pw + i]!; bits !== 0; bits &= bits - 1) {
      page[at + (i << 5) + (31 - Math.clz32(bits & -bits))]! ^= payload[k++]!;
    }
  }
}

function inflatePage(payload: Uint8Array, bad: (why: string) => never): Uint8Array {
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
