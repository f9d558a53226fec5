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
