// Optimized builds give each instrumented function a normal path beside Asyncify's code (src/instrument/normal-path.ts):
// programs migrating from hot paths (through function pointers, in loops and recursion), with forced migrations
// after WASI calls on top, must give the plain run's output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { observable, runForced } from '../support/forced.js';

const T = { timeout: 300_000 };

for (const [program, every] of [['hot_paths.c', 2], ['recursive.c', 3]] as const) {
  test(`${program} -O2: migrations from hot paths and after every ${every} WASI calls give the plain run's results`, T, async () => {
    const r = await runForced([`test/programs/core/${program}`], { every, nodes: ['cloud', 'edge'], cflags: ['-O2'] });
    assert.deepEqual(observable(r.migrating), observable(r.plain));
    assert.ok(r.migrating.logs.some((l) => /\(forced after fd_write\)/.test(l)), 'forced migrations happened');
    assert.ok(r.migrating.logs.some((l) => /Migration \S+ -> edge \(Entering remote_|Migration \S+ -> edge \(Entering fib/.test(l)), 'KAFU_DEST migrations happened');
  });
}
