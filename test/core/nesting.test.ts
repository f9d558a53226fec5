// Nested migrations across three nodes, and recursive KAFU_DEST functions: a return migrates back only at the
// depth whose call migrated (Kafu itself does not check the depth at function exit).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { m } from '../support/run.js';
import { PROGRAMS, assertSameAsPlain, buildPair } from './common.js';

test('nested chain A -> B -> C -> B -> A and back, locals of every level intact', async () => {
  const pair = await buildPair({ sources: [`${PROGRAMS}/nested.c`], args: ['-O1'] });
  const { migrating } = await assertSameAsPlain(pair, {
    nodes: ['A', 'B', 'C'],
    expected: [
      m('A', 'B', 'enter', 'b1'),
      m('B', 'C', 'enter', 'c1'),
      m('C', 'B', 'enter', 'b2'),
      m('B', 'A', 'enter', 'a1'),
      m('A', 'B', 'return', 'a1'),
      m('B', 'C', 'return', 'b2'),
      m('C', 'B', 'return', 'c1'),
      m('B', 'A', 'return', 'b1'),
    ],
  });
  // Recomputed here, independently of either build.
  const a1 = 787 * 787;
  const b2 = a1 ^ 784;
  const c1 = b2 - 110;
  const b1 = c1 + 21;
  assert.equal(
    migrating.stdout,
    `a1: v=787\nb2: mine=784 r=${a1}\nc1: mine=110 r=${b2}\nb1: mine=21 r=${c1}\n` +
      `main: start=7 result=${b1} path=ABCBABCBA\n`,
  );
});

test('recursive KAFU_DEST functions with early returns: only the outermost call moves; mutual recursion', async () => {
  const pair = await buildPair({ sources: [`${PROGRAMS}/recursive.c`], args: ['-O1'] });
  const { migrating } = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge'],
    expected: [
      // fib(15): 1 219 calls, of which only the outermost migrates in and out.
      m('cloud', 'edge', 'enter', 'fib'),
      m('edge', 'cloud', 'return', 'fib'),
      // fib(1): returns early at once.
      m('cloud', 'edge', 'enter', 'fib'),
      m('edge', 'cloud', 'return', 'fib'),
      // search(151): at depth 3 note() goes to cloud and comes back; the return to cloud waits for depth 0.
      m('cloud', 'edge', 'enter', 'search'),
      m('edge', 'cloud', 'enter', 'note'),
      m('cloud', 'edge', 'return', 'note'),
      m('edge', 'cloud', 'return', 'search'),
      // search(2): not found, returns -1 from depth 6.
      m('cloud', 'edge', 'enter', 'search'),
      m('edge', 'cloud', 'enter', 'note'),
      m('cloud', 'edge', 'return', 'note'),
      m('edge', 'cloud', 'return', 'search'),
      // is_even(4) on edge <-> is_odd on cloud: every call and every return moves.
      m('cloud', 'edge', 'enter', 'is_even'),
      m('edge', 'cloud', 'enter', 'is_odd'),
      m('cloud', 'edge', 'enter', 'is_even'),
      m('edge', 'cloud', 'enter', 'is_odd'),
      m('cloud', 'edge', 'enter', 'is_even'),
      m('edge', 'cloud', 'return', 'is_even'),
      m('cloud', 'edge', 'return', 'is_odd'),
      m('edge', 'cloud', 'return', 'is_even'),
      m('cloud', 'edge', 'return', 'is_odd'),
      m('edge', 'cloud', 'return', 'is_even'),
      // is_odd(3) from cloud: the outermost call stays; its return does not move either.
      m('cloud', 'edge', 'enter', 'is_even'),
      m('edge', 'cloud', 'enter', 'is_odd'),
      m('cloud', 'edge', 'enter', 'is_even'),
      m('edge', 'cloud', 'return', 'is_even'),
      m('cloud', 'edge', 'return', 'is_odd'),
      m('edge', 'cloud', 'return', 'is_even'),
    ],
  });
  assert.equal(
    migrating.stdout,
    [
      'fib(15)=610 calls=1219',
      'fib(1)=1 calls=1220',
      'note: depth 3 at mid 51',
      'search(151)=50 max_depth=5',
      'note: depth 3 at mid 3',
      'search(2)=-1',
      'is_even(4)=1',
      'is_odd(3)=1',
      '',
    ].join('\n'),
  );
});
