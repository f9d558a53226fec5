// Seeded, time-bounded fuzzing of the snapshot and transfer decoders (test/support/fuzz.ts): bit flips, truncation,
// splices, random length fields, random JSON headers and random frames. Each case must decode or be refused with a
// SnapshotFormatError, quickly and without holding on to memory; a damaged (unsealed) input is never accepted and a
// refused delta leaves the receiver's baseline as it was. `npm run fuzz` runs the same for longer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzDecoders } from '../support/fuzz.js';

test('fuzz: mutated and random transfers and snapshots are decoded or cleanly refused (3 s, seed 1)', () => {
  const tally = fuzzDecoders(1, 3000, undefined, 201);
  assert.deepEqual(tally.failures, []);
  assert.ok(tally.cases > 200, `only ${tally.cases} cases ran`);
  assert.ok(tally.refusals > tally.cases / 2, `${tally.refusals} of ${tally.cases} refused`);
});
