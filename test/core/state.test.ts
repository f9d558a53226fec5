// Program state that is not on the heap: globals, statics, the C stack (__stack_pointer, VLAs, alloca), and
// function pointers (the table) reaching KAFU_DEST functions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { m } from '../support/run.js';
import { PROGRAMS, assertSameAsPlain, buildPair, roundTrips } from './common.js';

test('globals, a static local, a global struct, __stack_pointer, VLA and alloca data across three nodes', async () => {
  const pair = await buildPair({ sources: [`${PROGRAMS}/statics.c`], args: ['-O1'] });
  const { migrating } = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge', 'fog'],
    expected: [
      m('cloud', 'edge', 'enter', 'on_edge'),
      m('edge', 'cloud', 'return', 'on_edge'),
      m('cloud', 'fog', 'enter', 'on_fog'),
      m('fog', 'cloud', 'return', 'on_fog'),
      m('cloud', 'edge', 'enter', 'on_edge'),
      m('edge', 'cloud', 'return', 'on_edge'),
    ],
  });
  // The VLA: a..z repeated over 80 bytes; on edge, every 2nd letter and then every 3rd letter upper-cased.
  let vla = '';
  for (let i = 0; i < 80; i++) {
    const c = String.fromCharCode(97 + (i % 26));
    vla += i % 2 === 0 || i % 3 === 0 ? c.toUpperCase() : c;
  }
  // static counter: 101 (cloud), 102 (edge), 103 (fog, recorded as 103 + r1), 104 (edge), 105 (cloud)
  // r1 = 102*10 + 42, r2 = 103 + r1 + 0x55, r3 = 104*10 + 43
  const r1 = 102 * 10 + 42;
  const r2 = 103 + r1 + 0x55;
  const r3 = 104 * 10 + 43;
  assert.equal(
    migrating.stdout,
    [
      `results ${r1} ${r2} ${r3}`,
      `local=43 vla=${vla} alloca=${'Z'.repeat(63)}`,
      '&local same, vla same, alloca same, frame same',
      `history: 101 102 ${103 + r1} 104 105`,
      `stats: hops=5 last=cloud sum=${(101 + 102 + 103 + r1 + 104 + 105) * 0.5} big=243 greeting=changed on edge`,
      '',
    ].join('\n'),
  );
});

test('KAFU_DEST functions called through a pointer, a struct member, an array of pointers, and by qsort', async () => {
  const pair = await buildPair({ sources: [`${PROGRAMS}/funcptr.c`], args: ['-O2'] });
  let comparisons = 0;
  const { migrating } = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge'],
    expected: (stdout) => {
      // How often qsort compares is libc's business; the plain run says, and each comparison is a round trip.
      comparisons = Number(/comparisons (\d+)/.exec(stdout)?.[1]);
      return [
        // p = add; ops[] = add, sub (cloud: no move), scale; table[2..0] = add, sub, scale
        ...roundTrips(2, 'cloud', 'edge', 'add'),
        ...roundTrips(1, 'cloud', 'edge', 'scale'),
        ...roundTrips(1, 'cloud', 'edge', 'add'),
        ...roundTrips(1, 'cloud', 'edge', 'scale'),
        ...roundTrips(comparisons, 'cloud', 'edge', 'by_value'),
      ];
    },
  });
  assert.ok(comparisons >= 3, `qsort of 4 values compared ${comparisons} times`);
  // 40+2=42; +2=44; -3=41; *4=164; then add 3, sub 3, scale 3 → 492; 492 % 97 = 7, 492 % 89 = 47
  assert.equal(
    migrating.stdout,
    'p(40,2)=42\nops[0] add -> 44\nops[1] sub -> 41\nops[2] scale -> 164\ntable -> 492, edge_calls=5\n' +
      `sorted 2 7 13 47, comparisons ${comparisons}\n`,
  );
});

test('open files keep their offsets, a directory listing its cursor, across a round trip', async () => {
  const pair = await buildPair({ sources: [`${PROGRAMS}/files.c`], args: ['-O1'] });
  const entries = Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((n) => [`entries/${n}`, n]));
  const { migrating, files } = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge'],
    files: { 'input.txt': 'one\ntwo\nthree\nfour\nfive\n', ...entries },
    expected: roundTrips(1, 'cloud', 'edge', 'on_edge'),
  });
  // 5 entries at the start; from-edge.txt is created mid-listing, so POSIX leaves open whether it is listed.
  assert.match(migrating.stdout, /^entries seen: [56], duplicates: 0, note: written on edge\n$/);
  assert.equal(
    files?.['out.txt'],
    'cloud read: one\ncloud saw entry\nedge read: two\nedge read: three\nedge saw entry\nedge saw entry\n' +
      'cloud read: four\ncloud read: five\n',
  );
  assert.equal(files?.['entries/from-edge.txt'], 'written on edge\n');
});
