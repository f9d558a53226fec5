// Minimal reader/writer of a wasm binary's section list: enough to read, drop and append custom sections without
// pulling a wasm toolkit into the runtime (edge nodes install the runtime without binaryen).

export interface Section {
  id: number;
  /** Custom sections only. */
  name?: string;
  /** Payload (for custom sections: after the name). */
  payload: Uint8Array;
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

export class WasmFormatError extends Error {}

function readU32(bytes: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= bytes.length) throw new WasmFormatError('truncated LEB128');
    const b = bytes[pos++]!;
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result >>> 0, pos];
    shift += 7;
    if (shift > 28) throw new WasmFormatError('LEB128 too long');
  }
}

export function encodeU32(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value >>>= 7;
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

export function isWasm(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && MAGIC.every((b, i) => bytes[i] === b);
}

export function parseSections(bytes: Uint8Array): Section[] {
  if (!isWasm(bytes)) throw new WasmFormatError('not a WebAssembly module (bad magic or version)');
  const sections: Section[] = [];
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    let size: number;
    [size, pos] = readU32(bytes, pos);
    const end = pos + size;
    if (end > bytes.length) throw new WasmFormatError(`section ${id} runs past the end of the module`);
    if (id === 0) {
      let nameLen: number;
      let p: number;
      [nameLen, p] = readU32(bytes, pos);
      const name = new TextDecoder().decode(bytes.subarray(p, p + nameLen));
      sections.push({ id, name, payload: bytes.subarray(p + nameLen, end) });
    } else {
      sections.push({ id, payload: bytes.subarray(pos, end) });
    }
    pos = end;
  }
  return sections;
}

export function serializeSections(sections: Section[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from(MAGIC)];
  for (const s of sections) {
    let body = s.payload;
    if (s.id === 0) {
      const name = new TextEncoder().encode(s.name ?? '');
      body = concat([Uint8Array.from(encodeU32(name.length)), name, s.payload]);
    }
    parts.push(Uint8Array.from([s.id, ...encodeU32(body.length)]), body);
  }
  return concat(parts);
}

function readName(payload: Uint8Array, pos: number): [string, number] {
  const [len, p] = readU32(payload, pos);
  return [new TextDecoder().decode(payload.subarray(p, p + len)), p + len];
}

export interface ImportEntry {
  module: string;
  name: string;
  /** 0 function, 1 table, 2 memory, 3 global, 4 tag */
  kind: number;
  /** A memory's declared maximum, in 64 KiB pages. */
  maxPages?: number;
}

/** The module's imports, from the import section. */
export function importEntries(sections: Section[]): ImportEntry[] {
  const payload = sections.find((s) => s.id === 2)?.payload;
  if (!payload) return [];
  const out: ImportEntry[] = [];
  let [count, pos] = readU32(payload, 0);
  while (count-- > 0) {
    let module: string;
    let name: string;
    [module, pos] = readName(payload, pos);
    [name, pos] = readName(payload, pos);
    const kind = payload[pos++]!;
    const entry: ImportEntry = { module, name, kind };
    out.push(entry);
    if (kind === 0) [, pos] = readU32(payload, pos);
    else if (kind === 1) pos = readLimits(payload, pos + 1).end; // after the reference type (one byte)
    else if (kind === 2) {
      const limits = readLimits(payload, pos);
      if (limits.max !== undefined) entry.maxPages = limits.max;
      pos = limits.end;
    }
    else if (kind === 3) pos += 2; // value type + mutability
    else if (kind === 4) {
      pos++;
      [, pos] = readU32(payload, pos);
    } else throw new WasmFormatError(`unknown import kind ${kind}`);
  }
  return out;
}

const WASM32_PAGES = 65536;

/**
 * The most bytes the module's linear memory can grow to: its declared maximum (memory section, or an imported
 * memory), else wasm32's 4 GiB. A snapshot with a larger memory cannot be of this module.
 */
export function maxMemoryBytes(sections: Section[]): number {
  const memory = sections.find((s) => s.id === 5)?.payload;
  let pages: number | undefined;
  if (memory && readU32(memory, 0)[0] > 0) pages = readLimits(memory, readU32(memory, 0)[1]).max;
  else pages = importEntries(sections).find((i) => i.kind === 2)?.maxPages;
  return Math.min(pages ?? WASM32_PAGES, WASM32_PAGES) * 65536;
}

/** Table or memory limits at `pos`: [minimum, maximum if declared], and where they end. */
function readLimits(payload: Uint8Array, pos: number): { max?: number; end: number } {
  const flags = payload[pos++]!;
  let max: number | undefined;
  [, pos] = readU32(payload, pos);
  if (flags & 1) [max, pos] = readU32(payload, pos);
  return { max, end: pos };
}

/** Function names from the `name` section (subsection 1), by function index. */
export function functionNames(sections: Section[]): Map<number, string> {
  const names = new Map<number, string>();
  const payload = sections.find((s) => s.id === 0 && s.name === 'name')?.payload;
  if (!payload) return names;
  try {
    let pos = 0;
    while (pos < payload.length) {
      const id = payload[pos++]!;
      let size: number;
      [size, pos] = readU32(payload, pos);
      const end = pos + size;
      if (id === 1) {
        let count: number;
        [count, pos] = readU32(payload, pos);
        while (count-- > 0) {
          let index: number;
          let name: string;
          [index, pos] = readU32(payload, pos);
          [name, pos] = readName(payload, pos);
          names.set(index, name);
        }
      }
      pos = end;
    }
  } catch {
    // A malformed name section only costs names in backtraces.
  }
  return names;
}

/** A `name` section payload holding function names only. */
export function encodeFunctionNames(names: Map<number, string>): Uint8Array {
  const body: number[] = [...encodeU32(names.size)];
  for (const [index, name] of [...names].sort(([a], [b]) => a - b)) {
    const bytes = new TextEncoder().encode(name);
    body.push(...encodeU32(index), ...encodeU32(bytes.length), ...bytes);
  }
  return Uint8Array.from([1, ...encodeU32(body.length), ...body]);
}

export function customSectionNames(bytes: Uint8Array): string[] {
  return parseSections(bytes).flatMap((s) => (s.id === 0 && s.name !== undefined ? [s.name] : []));
}

export function customSection(bytes: Uint8Array, name: string): Uint8Array | undefined {
  return parseSections(bytes).find((s) => s.id === 0 && s.name === name)?.payload;
}

/** Size in bytes of the code section: the measure of instrumentation overhead. */
export function codeSize(bytes: Uint8Array): number {
  return parseSections(bytes).find((s) => s.id === 10)?.payload.length ?? 0;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
