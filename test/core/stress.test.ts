// Many migrations, deep stacks, big heaps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { m } from '../support/run.js';
import { PROGRAMS, assertSameAsPlain, buildPair, roundTrips } from './common.js';

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

test('1 000 round trips in a loop (2 000 migrations): checksum and a file kept open across all of them', async () => {
  const pair = await buildPair({ sources: [`${PROGRAMS}/loop.c`], args: ['-O2'] });
  const t0 = performance.now();
  const { migrating, files } = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge'],
    files: {},
    expected: roundTrips(1000, 'cloud', 'edge', 'hop'),
  });
  // The same arithmetic as loop.c, here in TypeScript.
  const mix = (h: number, v: number) => (h ^ ((v + 0x9e3779b9 + (h << 6) + (h >>> 2)) >>> 0)) >>> 0;
  let acc = 2166136261;
  let cloud = 0;
  const log: string[] = [];
  for (let i = 0; i < 1000; i++) {
    cloud = mix(cloud, Math.imul(i, 31) >>> 0);
    if (i % 100 === 0) log.push(`iteration ${i} acc=${hex8(acc)}\n`);
    acc = mix(acc, i);
  }
  assert.equal(migrating.stdout, `checksum=${hex8(acc)} cloud_side=${hex8(cloud)}\n`);
  assert.deepEqual(files, { 'loop.log': log.join('') + 'done\n' });
  assert.equal(migrating.exitCode, 0);
  const ms = performance.now() - t0;
  assert.ok(ms < 60_000, `2 000 migrations took ${ms.toFixed(0)} ms`);
});

test('migration at recursion depth 10 000 (-O0, 8 MiB C stack), also from a locals-heavy recursion, heap grown in between', async () => {
  const pair = await buildPair({ sources: [`${PROGRAMS}/deep.c`], args: ['-O0', '-Wl,-z,stack-size=8388608'] });
  const { migrating } = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge'],
    // Whole snapshots, so that their sizes tell what they hold.
    migration: { memory_migration: 'full', memory_compression: false },
    expected: roundTrips(4, 'cloud', 'edge', 'far'),
  });
  const lines = migrating.stdout.split('\n');
  assert.deepEqual(lines.filter((l) => l.startsWith('far:')).map((l) => l.replace(/acc=-?\d+$/, 'acc=…')), [
    'far: reached at depth 0, acc=…',
    'far: reached at depth 10000, acc=…',
    'far: reached at depth 10000, acc=…',
    'far: reached at depth 1, acc=…',
  ]);
  assert.ok(lines.includes('far: reached at depth 10000, acc=19732895'), migrating.stdout);
  assert.match(migrating.stdout, /^down: 19773733$/m);
  assert.match(migrating.stdout, /^heavy: -?\d+\.\d{3}$/m);
  assert.match(migrating.stdout, /^heap intact$/m);
  // 10 000 unwound frames (and the C stack under them) travel in the snapshot: a shallow migration's snapshot is
  // about 200 KB, these are several times that; the locals-heavy recursion's frames are bigger still.
  const [shallow = 0, , down = 0, , heavy = 0] = migrating.snapshotBytes;
  assert.ok(down > shallow);
  assert.ok(down > 10000 * 40, `snapshot at depth 10 000 of only ${down} bytes`);
  assert.ok(heavy > down, `locals-heavy snapshot (${heavy} bytes) not larger than the plain one (${down} bytes)`);
});

test('50 MB of linked heap structures: checksums agree on both sides of every hop (-O2)', async () => {
  const pair = await buildPair({ sources: [`${PROGRAMS}/heap.c`], args: ['-O2'] });
  const { migrating } = await assertSameAsPlain(pair, {
    nodes: ['cloud', 'edge'],
    expected: [
      m('cloud', 'edge', 'enter', 'visit_edge'),
      m('edge', 'cloud', 'return', 'visit_edge'),
      m('cloud', 'edge', 'enter', 'visit_edge'),
      m('edge', 'cloud', 'return', 'visit_edge'),
      m('cloud', 'edge', 'enter', 'visit_edge'),
      m('edge', 'cloud', 'return', 'visit_edge'),
    ],
  });
  const built = /^built (\d+) bytes$/m.exec(migrating.stdout);
  assert.ok(built && Number(built[1]) >= 50 * 1024 * 1024, migrating.stdout);
  const rounds = [...migrating.stdout.matchAll(/^round (\d): cloud before (\w+), edge saw (\w+) \((\w+)\), cloud after (\w+)$/gm)];
  assert.equal(rounds.length, 3);
  for (const [, , before, seen, verdict, after] of rounds) {
    assert.equal(seen, before);
    assert.equal(verdict, 'same');
    assert.notEqual(after, before, 'the edge changed the data, and the change came back');
  }
  // The first transfer carries the whole heap (random payloads do not compress); every later one is a delta against
  // the memory of the hop before, and carries only the words that changed: one per record.
  const [first = 0, ...deltas] = migrating.snapshotBytes;
  assert.ok(first > 50 * 1024 * 1024, `first transfer of only ${first} bytes`);
  for (const bytes of deltas) assert.ok(bytes < 8 * 1024 * 1024, `delta transfer of ${bytes} bytes`);
});
