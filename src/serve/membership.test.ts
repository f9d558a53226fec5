// The first node learns where the program is from its own hops and from heartbeat replies. A reply is news as of
// when it was asked: one asked before this node handed the program on must not overwrite that hop (seen in CI: c
// said "running" just before handing the program to a, a handed it to b, c's late reply made a believe c held it,
// and b's "program finished" was refused, so a waited for c and declared the program lost).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendHeartbeats } from './membership.js';
import { setHolder, type NodeState } from './node-context.js';

function firstNode(replies: Map<string, () => Promise<{ running: boolean }>>) {
  const state = { holder: 'a', holderKnownAt: 0, started: true, where: 'idle' } as NodeState;
  const lost: string[] = [];
  const ctx = {
    nodeId: 'a',
    state,
    log: { info: () => {}, warn: () => {}, debug: () => {} },
    config: { cluster: { heartbeat: { interval_ms: 60_000 } } },
    peers: {
      others: () => [...replies.keys()].map((id) => ({ id })),
      client: (id: string) => ({ heartbeat: () => replies.get(id)!() }),
      where: (id: string) => id,
    },
    holderLost: async (id: string) => void lost.push(id),
  };
  return { ctx: ctx as never, state, lost };
}

test('a heartbeat reply asked before this node\'s own hop does not overwrite where the program is', async () => {
  let answer!: (r: { running: boolean }) => void;
  const { ctx, state } = firstNode(new Map([['c', () => new Promise((r) => (answer = r))]]));
  const stop = sendHeartbeats(ctx);
  try {
    await new Promise((r) => setImmediate(r)); // the heartbeat to c is on its way
    // Meanwhile the program came here from c and this node handed it to b.
    setHolder(state, 'a');
    setHolder(state, 'b');
    answer({ running: true }); // c's answer, from before it handed the program on
    await new Promise((r) => setImmediate(r));
    assert.equal(state.holder, 'b');
  } finally {
    stop();
  }
});

test('a heartbeat reply asked after this node\'s last hop is believed (a hop between two other nodes)', async () => {
  const { ctx, state } = firstNode(new Map([['c', async () => ({ running: true })]]));
  setHolder(state, 'b');
  await new Promise((r) => setTimeout(r, 2));
  const stop = sendHeartbeats(ctx);
  try {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(state.holder, 'c');
  } finally {
    stop();
  }
});
