// Which constants of a linked module are function addresses, from the relocations `wasm-ld --emit-relocs` keeps
// (`kafu clang` links with it when it instruments). In wasm a function address is a table index, an ordinary i32:
// without the relocations, `i32.const 5` could be the address of table entry 5 or the number 5.
//
// R_WASM_TABLE_INDEX_SLEB (code): the immediate of an `i32.const` is a table index.
// R_WASM_TABLE_INDEX_I32 (data): four bytes of a data segment are one (a static table of pointers, a vtable, a
// `FILE`'s `write`). Any relocation of a kind whose meaning is not that (relative, 64-bit table indices) makes the
// result unusable, and the caller falls back to resolving indirect calls by type alone.
import type { Section } from '../core/wasm-sections.js';

const TABLE_INDEX_SLEB = 1;
const TABLE_INDEX_I32 = 2;
/** Table-index relocations this reader does not model (PIC-relative, wasm64). */
const TABLE_INDEX_OTHER = new Set([12, 18, 19, 24]);
/** Relocation types followed by an addend (LLVM's WasmRelocs.def: memory addresses, function/section offsets). */
const WITH_ADDEND = new Set([3, 4, 5, 8, 9, 11, 14, 15, 16, 17, 21, 22, 23, 25]);

const I32_CONST = 0x41;
/** The most table entries a marked module may have: marked constants lie in [marker, marker + MARKED_RANGE). */
export const MARKED_RANGE = 1 << 20;
/** wasm-ld pads a relocated LEB to 5 bytes, which holds any i32. */
const PADDED_LEB = 5;

export interface FunctionAddresses {
  /** The code section's payload, each relocated `i32.const` table index `t` rewritten to `marker + t`. */
  markedCode: Uint8Array;
  marker: number;
  /** How many constants were marked (to check that the marked module holds no other constant in the marker range). */
  markedCount: number;
  /** Table indices stored in the data segments. */
  inData: Set<number>;
}

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.bytes.length) throw new RangeError('truncated relocation section');
    return this.bytes[this.pos++]!;
  }
  leb(): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      if (shift < 32) result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      if (shift > 56) throw new RangeError('LEB128 too long');
    }
  }
}

/** Decode the unsigned LEB at `pos`: its value and length, or undefined if it is not a 5-byte padded one. */
function paddedLeb(bytes: Uint8Array, pos: number): number | undefined {
  let value = 0;
  for (let i = 0; i < PADDED_LEB; i++) {
    const b = bytes[pos + i];
    if (b === undefined) return undefined;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return i === PADDED_LEB - 1 ? value : undefined;
  }
  return undefined;
}

function writePaddedSleb(bytes: Uint8Array, pos: number, value: number): void {
  for (let i = 0; i < PADDED_LEB; i++) {
    bytes[pos + i] = (value & 0x7f) | (i < PADDED_LEB - 1 ? 0x80 : 0);
    value >>= 7;
  }
}

/**
 * The function addresses of a module linked with --emit-relocs, or undefined when it has no relocations (linked
 * without them) or some the reader cannot vouch for.
 */
export function functionAddresses(sections: Section[], marker: number): FunctionAddresses | undefined {
  const tableSize = MARKED_RANGE;
  const code = sections.find((s) => s.id === 10);
  const data = sections.find((s) => s.id === 11);
  const relocs = sections.filter((s) => s.id === 0 && s.name?.startsWith('reloc.'));
  if (!code || !relocs.some((s) => s.name === 'reloc.CODE')) return undefined;
  const markedCode = Uint8Array.from(code.payload);
  const inData = new Set<number>();
  let markedCount = 0;
  try {
    for (const section of relocs) {
      const r = new Reader(section.payload);
      const target = sections[r.leb()];
      let count = r.leb();
      while (count-- > 0) {
        const type = r.byte();
        const offset = r.leb();
        r.leb(); // symbol index
        if (WITH_ADDEND.has(type)) r.leb(); // (signed, but only skipped)
        if (TABLE_INDEX_OTHER.has(type)) return undefined;
        if (type === TABLE_INDEX_SLEB) {
          if (target !== code || code.payload[offset - 1] !== I32_CONST) return undefined;
          const index = paddedLeb(code.payload, offset);
          if (index === undefined || index >= tableSize) return undefined;
          writePaddedSleb(markedCode, offset, marker + index);
          markedCount++;
        } else if (type === TABLE_INDEX_I32) {
          if (target !== data || !data || offset + 4 > data.payload.length) return undefined;
          const p = data.payload;
          const index = (p[offset]! | (p[offset + 1]! << 8) | (p[offset + 2]! << 16) | (p[offset + 3]! << 24)) >>> 0;
          if (index >= tableSize) return undefined;
          inData.add(index);
        }
      }
    }
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
  return { markedCode, marker, markedCount, inData };
}

/** Sections wasm-ld's --emit-relocs adds, which no engine needs (and binaryen cannot keep right). */
export const isLinkingSection = (s: Section): boolean => s.id === 0 && (s.name === 'linking' || (s.name?.startsWith('reloc.') ?? false));
