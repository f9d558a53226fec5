// The tab's `refused` message as the bridge reads it (decodeFrame, the one check of what a tab sends): `wholeNeeded`
// is a boolean or absent, and nothing else rides along.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameError, decodeFrame, encodeFrame, fromTabSchema, type FromTab } from './tab-protocol.js';

// (encodeFrame writes what it is given: here also what a hostile tab could send.)
const read = (message: unknown) => decodeFrame(encodeFrame(message as FromTab), fromTabSchema, () => 0).message;

test('a refused message: wholeNeeded is a boolean or absent; any other value or key is refused, naming it', () => {
  assert.deepEqual(read({ type: 'refused', message: 'lost files', wholeNeeded: true }), { type: 'refused', message: 'lost files', wholeNeeded: true });
  assert.deepEqual(read({ type: 'refused', message: 'bad snapshot' }), { type: 'refused', message: 'bad snapshot' });
  assert.throws(() => read({ type: 'refused', message: 'x', wholeNeeded: 'yes' }), (e) => e instanceof FrameError && /\(wholeNeeded\)/.test(e.message));
  assert.throws(() => read({ type: 'refused', message: 'x', wholeNeeded: true, baselineId: 'b' }), (e) => e instanceof FrameError && /malformed/.test(e.message));
  assert.throws(() => read({ type: 'refused', message: 'x'.repeat(5000), wholeNeeded: true }), (e) => e instanceof FrameError && /\(message\)/.test(e.message));
});
