// Exit codes after migrations (a return from main on the first node, exit() on another node), and migrations
// outside main: from a constructor before main, from an atexit handler during exit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { m } from '../support/run.js';
import { PROGRAMS, assertSameAsPlain, buildPair } from './common.js';

test('main returns 7 after a round trip; exit(5) on edge ends the program there with 5, stdout flushed', async () => {
  const pair = await buildPair({ sources: [`${PROGRAMS}/exits.c`], args: ['-O1'] });
  const ctor = [m('cloud', 'edge', 'enter', 'greet'), m('edge', 'cloud', 'return', 'greet')];

  const seven = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge'],
    args: ['return7'],
    // farewell() from the atexit handler runs on cloud, where the program already is.
    expected: [...ctor, m('cloud', 'edge', 'enter', 'on_edge'), m('edge', 'cloud', 'return', 'on_edge')],
  });
  assert.equal(seven.migrating.exitCode, 7);
  assert.equal(
    seven.migrating.stdout,
    'greet before main\ncloud: mode 0, greeted 21\nedge: mode 0\ncloud: back with 42\n\nfarewell (greeted 21)\natexit done\n',
  );
  assert.equal(seven.migrating.logs.at(-1), 'Program finished on cloud (exit code 7)');

  const five = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge'],
    args: ['exit5'],
    expected: [
      ...ctor,
      m('cloud', 'edge', 'enter', 'on_edge'),
      // exit(5) on edge runs the atexit handler there; farewell() goes to cloud and comes back.
      m('edge', 'cloud', 'enter', 'farewell'),
      m('cloud', 'edge', 'return', 'farewell'),
    ],
    endsOn: 'edge',
  });
  assert.equal(five.migrating.exitCode, 5);
  assert.equal(five.migrating.stdout, 'greet before main\ncloud: mode 1, greeted 21\nedge: mode 1\nfarewell (greeted 21)\natexit done\n');
  assert.equal(five.migrating.logs.at(-1), 'Program finished on edge (exit code 5)');
});
