// Just enough of the wasm binary format to tell a linked module from an object file and to list custom sections
// and exports (for `kafu clang`'s decisions and its tests).

export function isWasmBinary(b: Uint8Array): boolean {
  return b.length >= 8 && b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d && b[4] === 1 && b[5] === 0 && b[6] === 0 && b[7] === 0;
}

function leb(b: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= b.length) throw new Error('truncated wasm');
    const byte = b[pos++]!;
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7;
  }
}

function name(b: Uint8Array, pos: number): [string, number] {
  const [len, p] = leb(b, pos);
  return [new TextDecoder().decode(b.subarray(p, p + len)), p + len];
}

export interface SectionInfo {
  id: number;
  name?: string;
  start: number;
  end: number;
}

export function sections(b: Uint8Array): SectionInfo[] {
  if (!isWasmBinary(b)) throw new Error('not a wasm binary');
  const out: SectionInfo[] = [];
  let pos = 8;
  while (pos < b.length) {
    const id = b[pos++]!;
    const [size, p] = leb(b, pos);
    const end = p + size;
    if (id === 0) {
      const [n, q] = name(b, p);
      out.push({ id, name: n, start: q, end });
    } else {
      out.push({ id, start: p, end });
    }
    pos = end;
  }
  return out;
}

export function customSectionNames(b: Uint8Array): string[] {
  return sections(b).flatMap((s) => (s.id === 0 && s.name !== undefined ? [s.name] : []));
}

export function hasCustomSection(b: Uint8Array, sectionName: string): boolean {
  return customSectionNames(b).includes(sectionName);
}

export function exportNames(b: Uint8Array): string[] {
  const s = sections(b).find((x) => x.id === 7);
  if (!s) return [];
  let [count, pos] = leb(b, s.start);
  const out: string[] = [];
  while (count-- > 0) {
    let n: string;
    [n, pos] = name(b, pos);
    pos += 1; // kind
    [, pos] = leb(b, pos);
    out.push(n);
  }
  return out;
}

export function importNames(b: Uint8Array): string[] {
  const s = sections(b).find((x) => x.id === 2);
  if (!s) return [];
  let [count, pos] = leb(b, s.start);
  const out: string[] = [];
  while (count-- > 0) {
    let mod: string;
    let n: string;
    [mod, pos] = name(b, pos);
    [n, pos] = name(b, pos);
    const kind = b[pos++]!;
    if (kind === 0) [, pos] = leb(b, pos);
    else if (kind === 1) {
      pos++; // reftype
      const [flags, p] = leb(b, pos);
      pos = p;
      [, pos] = leb(b, pos);
      if (flags & 1) [, pos] = leb(b, pos);
    } else if (kind === 2) {
      const [flags, p] = leb(b, pos);
      pos = p;
      [, pos] = leb(b, pos);
      if (flags & 1) [, pos] = leb(b, pos);
    } else if (kind === 3) pos += 2;
    else if (kind === 4) {
      pos++;
      [, pos] = leb(b, pos);
    } else throw new Error(`unknown import kind ${kind}`);
    out.push(`${mod}.${n}`);
  }
  return out;
}
