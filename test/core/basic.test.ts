// The brief's Figure 1, the example in examples/basic, and Kafu's own basic example (f on cloud1 calls g on
// edge1): each migrating run matches the same program built without instrumentation and run without migration.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { m } from '../support/run.js';
import { PROGRAMS, assertSameAsPlain, buildPair } from './common.js';

test("Figure 1 as written (main never calls f): runs on cloud, no migration, exit 0", async () => {
  const pair = await buildPair({ sources: ['test/programs/figure1.c'] });
  const { migrating } = await assertSameAsPlain(pair, { nodes: ['cloud', 'edge'], expected: [] });
  assert.equal(migrating.stdout, 'Hello, from cloud!\n');
  assert.equal(migrating.exitCode, 0);
  assert.deepEqual(migrating.logs, ['Program is starting on cloud', 'Program finished on cloud (exit code 0)']);
});

test('examples/basic: cloud -> edge entering f, edge -> cloud returning, exit 0', async () => {
  const pair = await buildPair({ sources: ['examples/basic/main.c'] });
  const { migrating } = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge'],
    expected: [m('cloud', 'edge', 'enter', 'f'), m('edge', 'cloud', 'return', 'f')],
  });
  assert.equal(migrating.stdout, 'Hello, from cloud!\nHello, from edge!\nBack on cloud.\n');
  assert.equal(migrating.exitCode, 0);
  assert.deepEqual(migrating.logs, [
    'Program is starting on cloud',
    'Migration cloud -> edge (Entering f)',
    'Migration edge -> cloud (Returning from f)',
    'Program finished on cloud (exit code 0)',
  ]);
});

test("Kafu's basic example: f placed on cloud1 does not move, g on edge1 does; a file written on both sides", async () => {
  const pair = await buildPair({ sources: [`${PROGRAMS}/kafu_basic.c`], args: ['-O1'] });
  const { migrating, files } = await assertSameAsPlain(pair, {
    nodes: ['cloud1', 'edge1'],
    files: {},
    expected: [
      m('cloud1', 'edge1', 'enter', 'g'),
      m('edge1', 'cloud1', 'return', 'g'),
      m('cloud1', 'edge1', 'enter', 'g'),
      m('edge1', 'cloud1', 'return', 'g'),
    ],
  });
  assert.equal(
    migrating.stdout,
    [
      'main: calling f(20)',
      'f: local=41, calling g',
      'g: x=41, x*x=1681',
      'f: g returned 681, local still 41, note="f+g(41)"',
      'g: x=722, x*x=521284',
      'main: f returned 722, note="main+g(722)", trace: 41 1681 681 521284',
      '',
    ].join('\n'),
  );
  assert.deepEqual(files, { 'basic.txt': 'main starts, base=20\nmain ends, r=722, note=main+g(722)\n' });
  assert.equal(migrating.exitCode, 0);
});
