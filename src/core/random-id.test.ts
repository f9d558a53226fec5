import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomHex } from './random-id.js';

test('random ids are hex of the asked length and do not repeat, across refills of the pool', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = randomHex(16);
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.ok(!seen.has(id), `id ${id} repeated`);
    seen.add(id);
  }
  assert.match(randomHex(8), /^[0-9a-f]{16}$/);
  assert.throws(() => randomHex(1 << 20), /at most/);
});
