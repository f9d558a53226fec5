// KAFU_DEST migrations and forced migrations after every WASI call together: the core programs must give the
// same output, files and exit code as a plain run, whichever node each piece of code ends up on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { observable, runForced } from '../support/forced.js';

const T = { timeout: 240_000 };

for (const [program, nodes] of [
  ['files.c', ['cloud', 'edge']],
  ['statics.c', ['cloud', 'edge', 'fog']],
  ['recursive.c', ['cloud', 'edge']],
] as const) {
  test(`${program}: a migration after every WASI call on top of its KAFU_DEST migrations`, T, async () => {
    const r = await runForced([`test/programs/core/${program}`], { every: 1, nodes: [...nodes] });
    assert.deepEqual(observable(r.migrating), observable(r.plain));
    assert.ok(r.migrating.logs.some((l) => /\(forced after fd_write\)/.test(l)), 'forced migrations happened');
    // (Whether a KAFU_DEST call still moves depends on where the forced hops left the program: already on the
    // function's node, it stays.)
  });
}
