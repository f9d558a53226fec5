import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Section } from '../core/wasm-sections.js';
import { functionAddresses, isLinkingSection } from './relocations.js';

const MARK = 0x3000_0000;
/** A padded 5-byte LEB, as wasm-ld writes relocated immediates. */
const padded = (v: number) => [0, 1, 2, 3, 4].map((i) => ((v >>> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0));
const sleb5 = (bytes: Uint8Array, at: number) => {
  let v = 0;
  for (let i = 0; i < 5; i++) v |= (bytes[at + i]! & 0x7f) << (7 * i);
  return v;
};

/**
 * A module's sections: code with two `i32.const 2` (immediates at FIRST_IMM and SECOND_IMM), and data whose four
 * bytes at offset 4 hold 5. The relocations: [type, offset] entries for the code and the data.
 */
function sections(codeRelocs: [number, number][], dataRelocs: [number, number][] = [], codeImmediate = padded(2)): Section[] {
  const code: Section = { id: 10, payload: Uint8Array.from([1, 10, 0, 0x41, ...codeImmediate, 0x41, ...padded(2), 0x1a, 0x0b]) };
  const data: Section = { id: 11, payload: Uint8Array.from([1, 0, 0x41, 0, 5, 0, 0, 0]) };
  const reloc = (target: number, entries: [number, number][]): Uint8Array =>
    Uint8Array.from([target, entries.length, ...entries.flatMap(([type, offset]) => [type, offset, 0, ...([3, 4, 5].includes(type) ? [0] : [])])]);
  // code is section 0, data section 1 (indices into the section list, as wasm-ld counts them).
  return [code, data, { id: 0, name: 'reloc.CODE', payload: reloc(0, codeRelocs) }, { id: 0, name: 'reloc.DATA', payload: reloc(1, dataRelocs) }];
}

// The code payload: count, body size, locals, then `0x41 imm` twice.
const FIRST_IMM = 4;
const SECOND_IMM = 10;

test('a relocated i32.const is marked, an unrelocated one with the same value is not; data indices are read', () => {
  const r = functionAddresses(sections([[1, FIRST_IMM], [4, SECOND_IMM]], [[2, 4]]), MARK);
  assert.ok(r);
  assert.equal(r.markedCount, 1);
  assert.equal(sleb5(r.markedCode, FIRST_IMM), MARK + 2);
  assert.equal(sleb5(r.markedCode, SECOND_IMM), 2); // a memory-address relocation (type 4): left as it is
  assert.deepEqual([...r.inData], [5]);
});

test('relocations the reader cannot vouch for: no result (the instrumenter resolves by type)', () => {
  assert.equal(functionAddresses(sections([[12, FIRST_IMM]]), MARK), undefined, 'PIC-relative table index');
  assert.equal(functionAddresses(sections([[1, FIRST_IMM + 1]]), MARK), undefined, 'not at an i32.const immediate');
  assert.equal(functionAddresses(sections([[1, FIRST_IMM]], [], [2]), MARK), undefined, 'not a padded LEB');
  assert.equal(functionAddresses(sections([[1, FIRST_IMM]]).slice(0, 2), MARK), undefined, 'no relocations at all');
  const truncated = sections([[1, FIRST_IMM]]);
  truncated[2] = { id: 0, name: 'reloc.CODE', payload: Uint8Array.from([0, 3, 1]) };
  assert.equal(functionAddresses(truncated, MARK), undefined, 'truncated section');
});

test('the linking sections are recognised (dropped from the output)', () => {
  assert.deepEqual(
    [{ id: 0, name: 'linking' }, { id: 0, name: 'reloc.CODE' }, { id: 0, name: 'name' }, { id: 10 }].map((s) => isLinkingSection({ ...s, payload: new Uint8Array() })),
    [true, true, false, false],
  );
});
