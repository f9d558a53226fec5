// C++ across migrations: virtual calls, standard containers and strings on the heap, iostream's buffer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { m } from '../support/run.js';
import { PROGRAMS, assertSameAsPlain, buildPair } from './common.js';

test('C++: virtual methods, vector/string/map/unique_ptr and buffered cout across nested migrations', async () => {
  // No -fno-exceptions here: kafu clang++ adds it by default (wasi-libc++ has no exception runtime).
  const pair = await buildPair({ sources: [`${PROGRAMS}/cxx.cc`], cxx: true, args: ['-O1'] });
  const { migrating } = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge'],
    expected: [
      m('cloud', 'edge', 'enter', 'grow_on_edge'),
      m('edge', 'cloud', 'enter', 'summarize_on_cloud'),
      m('cloud', 'edge', 'return', 'summarize_on_cloud'),
      m('edge', 'cloud', 'return', 'grow_on_edge'),
    ],
  });
  assert.equal(
    migrating.stdout,
    [
      // One line written partly on cloud, partly on edge, the rest on cloud: cout's buffer travelled.
      'cloud: 2 shapes, area 9 [edge sees 7] | after edge: 7 shapes, area 113 (edge said 113)',
      '  rect 2x3 = 6',
      '  circle r=1 = 3',
      '  rect 1x2 = 2',
      '  circle r=2 = 12',
      '  rect 3x4 = 12',
      '  circle r=4 = 48',
      '  rect 5x6 = 30',
      '  count circle: 3',
      '  count rect: 4',
      '  count summaries: 1',
      'journal: cloud:start;edge:grew 5;cloud:summary circle=3 rect=4;edge:back c=7',
      '',
    ].join('\n'),
  );
});
