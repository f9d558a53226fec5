// Limits the program set itself: a maximum memory with no room left for the unwound stack refuses the migration
// with a clear error before anything is suspended.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../src/core/errors.js';
import { buildWasm } from '../support/build.js';
import { runMigrating } from '../support/run.js';

test('no room under the maximum memory for the unwound stack: a UserError before suspending', async () => {
  const wasm = await buildWasm({ sources: ['test/programs/core/max_memory.c'], args: ['-Wl,--max-memory=4194304'] });
  await assert.rejects(runMigrating(wasm, { nodes: ['cloud', 'edge'] }), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, /cannot migrate: linear memory cannot grow .* maximum memory is reached/);
    return true;
  });
});
