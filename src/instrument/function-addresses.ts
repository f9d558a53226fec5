// Which constants of a linked module are function addresses, found by linking it twice. In wasm a function address
// is a table index, an ordinary i32: `i32.const 5` could be the address of table entry 5 or the number 5. `kafu
// clang` links the program again from the same object files with the table placed TWIN_SHIFT entries higher
// (`--table-base`); nothing else changes, so the two modules differ exactly where a table index is materialised:
//   * the table's limits and the element segment's offset (each TWIN_SHIFT more);
//   * code: the immediate of an `i32.const` (wasm-ld writes a relocated immediate as a 5-byte LEB, so the code
//     keeps its length and layout);
//   * data: four bytes of a data segment (a static table of pointers, a vtable, a `FILE`'s `write`).
// TWIN_SHIFT is 2^24: for an index below 2^21 only the fourth byte of its 5-byte LEB, or of its 4-byte word,
// changes, so each differing byte names the one place it belongs to. A difference anywhere else, or one that is
// not exactly that, means the two links are not what this reads them as: no result, and the instrumenter resolves
// indirect calls by type (the module's function-pointer calls stay correct either way; only fewer are narrowed).
// (wasm-ld's own relocation output, --emit-relocs, would say the same, but LLVM 22's fails assertions on C++
// COMDATs and on wasi-libc's preopens.)
import type { Section } from '../core/wasm-sections.js';

/** How much higher the twin link places the table (`--table-base=1+TWIN_SHIFT`: wasm-ld's default base is 1). */
export const TWIN_SHIFT = 1 << 24;
export const TWIN_TABLE_BASE = 1 + TWIN_SHIFT;
/** The most table entries a marked module may have: marked constants lie in [marker, marker + MARKED_RANGE). */
export const MARKED_RANGE = 1 << 20;

const I32_CONST = 0x41;
const END = 0x0b;
const PADDED_LEB = 5;
/** The byte of a 5-byte LEB, or of a little-endian word, that TWIN_SHIFT changes for an index below MARKED_RANGE. */
const CHANGED_BYTE = 3;
const TABLE = 4;
const ELEM = 9;
const CODE = 10;
const DATA = 11;

export interface FunctionAddresses {
  /** The code section's payload, each `i32.const` table index `t` rewritten to `marker + t`. */
  markedCode: Uint8Array;
  marker: number;
  /** How many constants were marked (to check that the marked module holds no other constant in the marker range). */
  markedCount: number;
  /** Table indices stored in the data segments. */
  inData: Set<number>;
}

/** Why two links cannot be read as one module at two table bases (for a debug log). */
export class TwinMismatch extends Error {}

class Reader {
  constructor(
    private readonly bytes: Uint8Array,
    public pos = 0,
  ) {}
  byte(): number {
    const b = this.bytes[this.pos++];
    if (b === undefined) throw new TwinMismatch('truncated section');
    return b;
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      if (shift > 28) throw new TwinMismatch('LEB128 too long');
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
  }
  /** A non-negative i32 written as a signed LEB (an `i32.const` offset). */
  nonNegativeS32(): number {
    const start = this.pos;
    const v = this.u32();
    // The sign bit is bit 6 of the last byte.
    if ((this.bytes[this.pos - 1]! & 0x40) !== 0 || v > 0x7fff_ffff) throw new TwinMismatch(`negative or huge constant at ${start}`);
    return v;
  }
  rest(): Uint8Array {
    return this.bytes.subarray(this.pos);
  }
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Decode a 5-byte padded LEB at `pos`, or undefined if that is not what is there. */
function paddedLeb(bytes: Uint8Array, pos: number): number | undefined {
  let value = 0;
  for (let i = 0; i < PADDED_LEB; i++) {
    const b = bytes[pos + i];
    if (b === undefined || ((b & 0x80) !== 0) !== i < PADDED_LEB - 1) return undefined;
    value += (b & 0x7f) * 2 ** (7 * i);
  }
  return value;
}

function writePaddedSleb(bytes: Uint8Array, pos: number, value: number): void {
  for (let i = 0; i < PADDED_LEB; i++) {
    bytes[pos + i] = (value & 0x7f) | (i < PADDED_LEB - 1 ? 0x80 : 0);
    value >>= 7;
  }
}

const word = (p: Uint8Array, at: number) => (p[at]! | (p[at + 1]! << 8) | (p[at + 2]! << 16) | (p[at + 3]! << 24)) >>> 0;

/** The table's limits: the twin's must be this module's plus TWIN_SHIFT. */
function compareTable(a: Uint8Array, b: Uint8Array): void {
  const ra = new Reader(a);
  const rb = new Reader(b);
  if (ra.u32() !== 1 || rb.u32() !== 1) throw new TwinMismatch('not exactly one table');
  const refType = ra.byte();
  const flags = ra.byte();
  if (rb.byte() !== refType || rb.byte() !== flags || (flags & ~1) !== 0) throw new TwinMismatch('table types differ or are not plain limits');
  const min = ra.u32();
  if (rb.u32() !== min + TWIN_SHIFT) throw new TwinMismatch('table sizes differ by other than the shift');
  if (flags & 1 && rb.u32() !== ra.u32() + TWIN_SHIFT) throw new TwinMismatch('table maxima differ by other than the shift');
  if (!equal(ra.rest(), rb.rest())) throw new TwinMismatch('table sections differ');
}

/**
 * One active element segment for table 0 at `i32.const base`: the twin's base is TWIN_SHIFT higher, the rest
 * equal. Returns the table indices it fills: [first, end).
 */
function compareElements(a: Uint8Array, b: Uint8Array): { first: number; end: number } {
  const ra = new Reader(a);
  const rb = new Reader(b);
  if (ra.u32() !== 1 || rb.u32() !== 1) throw new TwinMismatch('not exactly one element segment');
  if (ra.u32() !== 0 || rb.u32() !== 0 || ra.byte() !== I32_CONST || rb.byte() !== I32_CONST) throw new TwinMismatch('element segment is not active at a constant');
  const first = ra.nonNegativeS32();
  if (rb.nonNegativeS32() !== first + TWIN_SHIFT) throw new TwinMismatch('element offsets differ by other than the shift');
  if (ra.byte() !== END || rb.byte() !== END || !equal(ra.rest(), rb.rest())) throw new TwinMismatch('element segments differ');
  return { first, end: first + ra.u32() };
}

/**
 * The function addresses of `sections` (a module linked at wasm-ld's default table base), found by comparing it
 * with `twin` (the same link with `--table-base=TWIN_TABLE_BASE`), their name sections aside. Throws TwinMismatch for any difference that is
 * not a table index moved by TWIN_SHIFT.
 */
export function functionAddressesFromTwin(all: Section[], allTwin: Section[], marker: number): FunctionAddresses {
  // The name section names the output file, which may differ; it holds no address.
  const named = (s: Section) => s.id === 0 && s.name === 'name';
  const sections = all.filter((s) => !named(s));
  const twin = allTwin.filter((s) => !named(s));
  if (sections.length !== twin.length) throw new TwinMismatch('the two links have different sections');
  let entries: { first: number; end: number } | undefined;
  let markedCode: Uint8Array | undefined;
  let markedCount = 0;
  const inData = new Set<number>();
  const index = (value: number, where: string): number => {
    if (!entries || value < entries.first || value >= entries.end || value >= MARKED_RANGE) throw new TwinMismatch(`${where}: ${value} is no table entry`);
    return value;
  };
  sections.forEach((s, i) => {
    const t = twin[i]!;
    if (s.id !== t.id || s.name !== t.name) throw new TwinMismatch(`section ${i} differs in kind`);
    const a = s.payload;
    const b = t.payload;
    if (s.id === TABLE) compareTable(a, b);
    else if (s.id === ELEM) entries = compareElements(a, b);
    else if (s.id === CODE || s.id === DATA) {
      if (a.length !== b.length) throw new TwinMismatch(`section ${s.id} differs in length`);
      if (s.id === CODE) markedCode = Uint8Array.from(a);
      for (let p = 0; p < a.length; p++) {
        if (a[p] === b[p]) continue;
        const at = p - CHANGED_BYTE;
        if (s.id === CODE) {
          const va = paddedLeb(a, at);
          if (a[at - 1] !== I32_CONST || va === undefined || paddedLeb(b, at) !== va + TWIN_SHIFT) {
            throw new TwinMismatch(`code differs at ${p} other than in an i32.const table index`);
          }
          writePaddedSleb(markedCode!, at, marker + index(va, `code at ${p}`));
          markedCount++;
        } else {
          if (at < 0 || word(b, at) !== word(a, at) + TWIN_SHIFT) throw new TwinMismatch(`data differs at ${p} other than in a table index`);
          inData.add(index(word(a, at), `data at ${p}`));
        }
      }
    } else if (!equal(a, b)) throw new TwinMismatch(`section ${s.name ?? s.id} differs`);
  });
  // The element section comes before the code and data: every index above was checked against its entries.
  if (!markedCode) throw new TwinMismatch('no code section');
  return { markedCode, marker, markedCount, inData };
}
