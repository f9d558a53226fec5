// Function addresses that travel before the call (src/instrument/points-to.ts decides from that flow which calls
// are instrumented): every call through them must still migrate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROGRAMS, assertSameAsPlain, buildPair, roundTrips } from './common.js';

test('a KAFU_DEST function reached through returned, heap, global, integer, copied, registered and qsort pointers', async () => {
  const pair = await buildPair({ sources: [`${PROGRAMS}/funcptr_flow.c`], args: ['-O2'] });
  let comparisons = 0;
  const { migrating } = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge'],
    expected: (stdout) => {
      // twice() six times (one per way the pointer travels), then order() once per comparison qsort makes.
      comparisons = Number(/edge calls (\d+)/.exec(stdout)?.[1]) - 6;
      return [...roundTrips(6, 'cloud', 'edge', 'twice'), ...roundTrips(comparisons, 'cloud', 'edge', 'order')];
    },
  });
  assert.ok(comparisons >= 2, `qsort of 3 values compared ${comparisons} times`);
  // 2(20+1)=42; 2(42+3)=90; 2(90+5)=190; 2(190+7)=394; 2(394+11)=810; 810+1+1, 2(812+2), 1628+3+1 → 1632;
  // 1632 % 7, % 5, % 3 = 1, 2, 0
  assert.equal(
    migrating.stdout,
    'returned -> 42\nheap -> 90\nglobal -> 190\ninteger -> 394\ncopied -> 810\ncallbacks -> 1632\n' +
      `sorted 0 1 2, steps 9, edge calls ${6 + comparisons}\n`,
  );
});

test('C++: a KAFU_DEST function reached through a virtual call, a std::function holding it, and a lambda', async () => {
  const pair = await buildPair({ sources: [`${PROGRAMS}/funcptr_flow.cc`], cxx: true, args: ['-O2'] });
  const { migrating } = await assertSameAsPlain(pair, { nodes: ['cloud', 'edge'], expected: roundTrips(3, 'cloud', 'edge', 'scale') });
  assert.equal(migrating.stdout, 'virtual -> 44\nfunction -> 90\nlambda -> 183, steps 5, edge calls 3\n');
});

test('a program that opens files by path: its qsort comparator migrates', async () => {
  const pair = await buildPair({ sources: [`${PROGRAMS}/files_qsort.c`], args: ['-O2'] });
  let comparisons = 0;
  const { migrating, files } = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge'],
    files: { 'numbers.txt': '5 3 9 1 7 2\n' },
    expected: (stdout) => {
      comparisons = Number(/edge calls (\d+)/.exec(stdout)?.[1]);
      return roundTrips(comparisons, 'cloud', 'edge', 'by_value');
    },
  });
  assert.ok(comparisons >= 5, `qsort of 6 values compared ${comparisons} times`);
  assert.equal(migrating.stdout, `sorted 6 numbers, edge calls ${comparisons}\n`);
  assert.equal(files?.['sorted.txt'], '1\n2\n3\n5\n7\n9\n');
});

test('a module linked with -Wl,--strip-all (no target_features section for binaryen to read) is instrumented and migrates', async () => {
  // Binaryen assumed the MVP for such a module and aborted on its first memory.copy, with a stack trace.
  const pair = await buildPair({ sources: [`${PROGRAMS}/funcptr_flow.c`], args: ['-O2', '-Wl,--strip-all'] });
  const { migrating } = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge'],
    expected: (stdout) => {
      const comparisons = Number(/edge calls (\d+)/.exec(stdout)?.[1]) - 6;
      return [...roundTrips(6, 'cloud', 'edge', 'twice'), ...roundTrips(comparisons, 'cloud', 'edge', 'order')];
    },
  });
  assert.match(migrating.stdout, /^returned -> 42\n[^]*callbacks -> 1632\nsorted 0 1 2, steps 9, edge calls \d+\n$/);
});
