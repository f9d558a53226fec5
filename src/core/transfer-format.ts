// What both sides of a transfer (transfer.ts encodes, transfer-decode.ts decodes) share: the record encodings and
// the helpers that read memory images as page tables and 32-bit words. The format itself is described in transfer.ts.
import { PAGE_SIZE, type MemoryImage } from './snapshot.js';

export const TRANSFER_VERSION = 4;

/** A memory image both ends of a hop hold. */
export interface Baseline {
  id: string;
  memory: MemoryImage;
}

export const RAW = 0;
export const ZERO = 1;
export const DEFLATE = 2;
export const SPARSE = 3;
export const XOR_SPARSE = 4;
export const ENCODINGS = ['raw', 'zero', 'deflate', 'sparse', 'xor-sparse'];
/** No record for the page (in the decoder's table, beside the encodings). */
export const NONE = 255;
/** A record's head: u32 page index, u32 encoding, u32 payload length. */
export const RECORD = 12;

const PADDING = new Uint8Array(4);

/**
 * Writes page records into `records`, in order: for each, its head (into one buffer for up to `count` heads), its
 * payload, and padding to a multiple of 4 bytes. The one writer of the format (a hop's encodeTransfer, a pre-copy
 * round).
 */
export function recordWriter(count: number, records: Uint8Array[]): (index: number, encoding: number, payload: Uint8Array) => void {
  const heads = new Uint8Array(RECORD * count);
  const view = new DataView(heads.buffer);
  let at = 0;
  return (index, encoding, payload) => {
    view.setUint32(at, index, true);
    view.setUint32(at + 4, encoding, true);
    view.setUint32(at + 8, payload.byteLength, true);
    records.push(heads.subarray(at, at + RECORD), payload);
    if (payload.byteLength % 4 !== 0) records.push(PADDING.subarray(0, 4 - (payload.byteLength % 4)));
    at += RECORD;
  };
}

export function pageCount(byteLength: number): number {
  if (!Number.isSafeInteger(byteLength) || byteLength < 0 || byteLength % PAGE_SIZE !== 0) {
    throw new Error('memory length is not a whole number of pages');
  }
  return byteLength / PAGE_SIZE;
}

/** The image's pages by index (holes for zero pages). */
export function pageTable(image: MemoryImage, count: number): (Uint8Array | undefined)[] {
  const table: (Uint8Array | undefined)[] = new Array(count);
  for (const { index, data } of image.pages) {
    if (!Number.isInteger(index) || index < 0 || index >= count) throw new Error(`memory page ${index} out of range`);
    if (data.byteLength !== PAGE_SIZE) throw new Error(`memory page ${index} is not ${PAGE_SIZE} bytes`);
    if (table[index]) throw new Error(`memory page ${index} appears twice`);
    table[index] = data;
  }
  return table;
}

export const le32 = (b: Uint8Array, at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** The bytes, copied where they do not start on a 4-byte boundary (received bytes may sit anywhere). */
export function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
}

/**
 * 32-bit words of 4-byte aligned bytes: word i of `bytes` is `words(bytes)[(bytes.byteOffset / 4) + i]`. One view per
 * buffer (the pages of an image are mostly views of one or a few buffers), none per page.
 */
export function wordViews(): (bytes: Uint8Array) => Int32Array {
  const views = new Map<ArrayBufferLike, Int32Array>();
  return ({ buffer }) => {
    let view = views.get(buffer);
    if (!view) views.set(buffer, (view = new Int32Array(buffer, 0, Math.floor(buffer.byteLength / 4))));
    return view;
  };
}
