// The snapshot: everything needed to resume a suspended program in a fresh instance of the same module, on any
// engine. Byte format (little endian), version 1:
//
//   "KAFUSNAP"  u32 format version  u32 header length  header (UTF-8 JSON, SnapshotHeader)
//   then header.memory.pages records:  u32 page index, 65536 bytes   (all-zero pages are left out)
//   then the blobs, header.blobs[i] bytes each (file contents that travel with the program, …)
//   "KAFUEND!"
//
// The header is self-describing JSON so any engine or language can read it; memory follows as independent page
// records so that a writer can stream them and a reader can apply them one by one (no whole-heap copies).
import type { Migration, MigrationStackState } from './migration-stack.js';
import type { UnwindArea } from './unwind-area.js';
import { concat } from './wasm-sections.js';

export const SNAPSHOT_VERSION = 1;
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
  memory: { byteLength: number; pages: number };
  createdBy: string;
}

export interface Snapshot {
  header: SnapshotHeader;
  memory: Uint8Array;
  blobs: Uint8Array[];
}

export class SnapshotFormatError extends Error {}

function isZeroPage(mem: Uint8Array, offset: number): boolean {
  const words = new BigUint64Array(mem.buffer, mem.byteOffset + offset, PAGE_SIZE / 8);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0n) return false;
  return true;
}

/** Encode as a list of chunks; page payloads are views of `memory`, not copies. */
export function encodeSnapshot(
  snapshot: Omit<Snapshot, 'header'> & { header: Omit<SnapshotHeader, 'memory' | 'blobs'> },
): Uint8Array[] {
  const { memory, blobs } = snapshot;
  if (memory.byteLength % PAGE_SIZE !== 0) throw new Error('memory length is not a whole number of pages');
  if (memory.byteOffset % 8 !== 0) throw new Error('memory view must be 8-byte aligned');
  const pageChunks: Uint8Array[] = [];
  for (let offset = 0, index = 0; offset < memory.byteLength; offset += PAGE_SIZE, index++) {
    if (isZeroPage(memory, offset)) continue;
    const idx = new Uint8Array(4);
    new DataView(idx.buffer).setUint32(0, index, true);
    pageChunks.push(idx, memory.subarray(offset, offset + PAGE_SIZE));
  }
  const header: SnapshotHeader = {
    ...snapshot.header,
    memory: { byteLength: memory.byteLength, pages: pageChunks.length / 2 },
    blobs: blobs.map((b) => b.byteLength),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const pre = new Uint8Array(16);
  pre.set(MAGIC);
  const dv = new DataView(pre.buffer);
  dv.setUint32(8, SNAPSHOT_VERSION, true);
  dv.setUint32(12, json.length, true);
  return [pre, json, ...pageChunks, ...blobs, END];
}

export function snapshotByteLength(chunks: Uint8Array[]): number {
  return chunks.reduce((n, c) => n + c.length, 0);
}

export function decodeSnapshot(input: Uint8Array | Uint8Array[]): Snapshot {
  const bytes = Array.isArray(input) ? concat(input) : input;
  const fail = (why: string): never => {
    throw new SnapshotFormatError(`not a valid kafu snapshot: ${why}`);
  };
  if (bytes.length < 16 || !MAGIC.every((b, i) => bytes[i] === b)) fail('bad magic');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== SNAPSHOT_VERSION) fail(`format version ${version}, this runtime reads ${SNAPSHOT_VERSION}`);
  const headerLen = dv.getUint32(12, true);
  if (16 + headerLen > bytes.length) fail('truncated header');
  let header: SnapshotHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLen))) as SnapshotHeader;
  } catch {
    return fail('header is not JSON');
  }
  const { byteLength, pages } = header.memory;
  if (byteLength % PAGE_SIZE !== 0) fail('memory length is not a whole number of pages');
  const memory = new Uint8Array(byteLength);
  let pos = 16 + headerLen;
  for (let i = 0; i < pages; i++) {
    if (pos + 4 + PAGE_SIZE > bytes.length) fail(`truncated at memory page record ${i}`);
    const index = dv.getUint32(pos, true);
    if ((index + 1) * PAGE_SIZE > byteLength) fail(`page index ${index} out of range`);
    memory.set(bytes.subarray(pos + 4, pos + 4 + PAGE_SIZE), index * PAGE_SIZE);
    pos += 4 + PAGE_SIZE;
  }
  const blobs: Uint8Array[] = [];
  for (const length of header.blobs ?? []) {
    if (pos + length > bytes.length) fail(`truncated in blob ${blobs.length}`);
    blobs.push(bytes.subarray(pos, pos + length));
    pos += length;
  }
  if (pos + END.length !== bytes.length || !END.every((b, i) => bytes[pos + i] === b)) fail('missing end marker');
  return { header, memory, blobs };
}
