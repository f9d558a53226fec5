// Limits the program set itself: a maximum memory with no room left for the unwound stack refuses the migration
// with a clear error before anything is suspended; and it bounds the snapshots a node accepts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFile } from 'node:fs/promises';
import { UserError } from '../../src/core/errors.js';
import { PAGE_SIZE, memoryImage } from '../../src/core/snapshot.js';
import { decodeTransfer, encodeTransfer, maxTransferBytes } from '../../src/core/transfer.js';
import { maxMemoryBytes, parseSections } from '../../src/core/wasm-sections.js';
import { fuzzHeader } from '../support/fuzz.js';
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

test('the module\'s maximum memory bounds the snapshots a node accepts for it (4 GiB where it declares none)', async () => {
  const capped = await buildWasm({ sources: ['test/programs/core/max_memory.c'], args: ['-Wl,--max-memory=4194304'] });
  const open = await buildWasm({ sources: ['test/programs/core/max_memory.c'] });
  assert.equal(maxMemoryBytes(parseSections(await readFile(capped))), 4194304);
  assert.equal(maxMemoryBytes(parseSections(await readFile(open))), 2 ** 32);
  const limits = { maxMemoryBytes: 4194304, maxStateBytes: 1 << 20 };
  const memory = new Uint8Array(128 * PAGE_SIZE);
  memory[5] = 1;
  const bytes = encodeTransfer({ header: fuzzHeader(), memory: memoryImage(memory), blobs: [] }, { compression: true }).chunks;
  assert.throws(() => decodeTransfer(bytes, () => undefined, limits), /memory of 8388608 bytes is larger than the module's maximum \(4194304\)/);
  assert.ok(maxTransferBytes(limits) < 6 << 20, 'a Migrate call declaring more is refused before its data arrives');
});
