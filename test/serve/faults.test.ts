// The fault-injection suite, bounded (the long one: `npm run fault`): relay.c across two `kafu serve` processes,
// with kill -9 of each node at a seeded random moment, a TCP proxy between the nodes that delays data and cuts
// connections mid-stream, and a full disk where a node saves the program. No run may lose the program (other than
// by killing the node that holds it, which only checkpoints survive) or lose, repeat or reorder a line of output.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { buildWasm } from '../support/build.js';
import { canMountTmpfs, runFault, type FaultOptions, type FaultRun } from '../support/faults.js';
import { runPlain } from '../support/run.js';

describe('fault injection (bounded)', () => {
  let o: FaultOptions;
  before(async () => {
    const wasm = await buildWasm({ sources: ['test/programs/serve/relay.c'], args: ['-O1'] });
    const args = ['4', '150'];
    o = { wasm, rounds: 4, ms: 150, expected: (await runPlain(wasm, { args })).stdout.split('\n').filter((l) => l !== '') };
  });

  const check = (r: FaultRun) => {
    const what = `${r.kind} seed ${r.seed}: ${r.fault}: ${r.outcome} ${r.detail}`;
    assert.equal(r.linesLost, 0, what);
    assert.equal(r.linesDuplicated, 0, what);
    assert.equal(r.outOfOrder, false, what);
  };

  test('kill -9 of the first node while edge holds the program, and of edge while cloud does: saved and resumed', async () => {
    // Once a line is printed, the program stays `ms` on the node that printed it.
    const slow = { ...o, ms: 800, expected: o.expected };
    for (const killAt of [{ victim: 'cloud', afterLine: 'line 3 edge' }, { victim: 'edge', afterLine: 'line 4 cloud' }]) {
      const r = await runFault('kill', 1, slow, { ...killAt, delayMs: 200 });
      assert.equal(r.outcome, 'resumed', `${r.fault}: ${r.detail}`);
      check(r);
    }
  });

  test('a proxy that delays and cuts connections mid-transfer: the program finishes, every line once, in order', async () => {
    for (const seed of [2]) { // (npm run fault runs many more seeds)
      const r = await runFault('proxy', seed, o);
      assert.notEqual(r.outcome, 'lost', `${r.fault}: ${r.detail}`);
      check(r);
    }
  });

  test('disk full where the program is saved: it is saved in the temporary folder instead, and resumed', { skip: !canMountTmpfs() && 'unshare cannot mount a tmpfs here' }, async () => {
    const r = await runFault('disk-full', 4, o);
    assert.equal(r.outcome, 'resumed', `${r.fault}: ${r.detail}`);
    check(r);
  });
});
