// A home that refuses a socket call at its access check (it still hands the program to the node this one got it
// from: the reply of that hand-off has not reached it yet) did nothing: the call is asked again, and the program's
// socket is not reset. Real pieces: the home's gRPC server with the Socket handler and access check of `kafu serve`
// (access.ts: a departing home refuses everyone but its destination), its host sockets, a real TCP client, and the
// calling node's relay, called from a thread as the program's worker calls it.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createLogger } from '../../src/core/log.js';
import { admit, socketAllowed } from '../../src/serve/access.js';
import type { NodeContext } from '../../src/serve/node-context.js';
import { Peers } from '../../src/serve/peers.js';
import { addKafuNodeService, type KafuNodeHandlers } from '../../src/serve/protocol.js';
import { NodeSockets } from '../../src/serve/sockets.js';
import { freePorts } from '../support/cluster.js';

test('sockets: a call refused by a home that has not yet seen the program move on is asked again, not reset', async () => {
  const [grpcPort, tcpPort] = await freePorts(2);
  const nodes = ['a', 'b', 'c'].map((id, i) => ({ id, address: '127.0.0.1', port: i === 0 ? grpcPort! : 1 }));
  const log = createLogger(() => undefined);
  const config = { name: 'refused', nodes, app: { listen: [{ node: 'a', address: '127.0.0.1', port: tcpPort! }] } };
  // Home a handed the program to b, which handed it on to c before a got b's reply: a still takes only b's calls.
  const state = { where: 'departing', holder: 'b', ending: false };
  const ctx = { nodeId: 'a', tls: undefined, config, state } as unknown as NodeContext;
  const home = new NodeSockets('a', config.app.listen, new Peers('a', nodes, log, undefined), log, 5000);
  await home.start();
  const refused: string[] = [];
  const server = new grpc.Server();
  addKafuNodeService(server, {
    socket: async (req, proven, cancelled) => {
      const caller = admit(ctx, req.from, proven);
      try {
        socketAllowed(ctx, caller);
      } catch (e) {
        refused.push(caller);
        if (refused.length === 3) state.where = 'idle'; // b's reply arrives
        throw e;
      }
      return home.serveRemote(req, cancelled);
    },
  } as Partial<KafuNodeHandlers> as KafuNodeHandlers);
  await new Promise<void>((r, j) => server.bindAsync(`127.0.0.1:${grpcPort}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? j(e) : r())));

  const caller = new NodeSockets('c', config.app.listen, new Peers('c', nodes, log, undefined), log, 5000);
  await caller.start();
  const listener = home.ownListeners()[0]!;
  const thread = new Worker(new URL('../support/sync-caller-thread.js', import.meta.url), {
    workerData: { ...caller.workerEnd, requests: [{ op: 'accept', home: 'a', id: listener, seq: 1, nonblocking: false }] },
    transferList: [caller.workerEnd.port],
  });
  const client = connect(tcpPort!, '127.0.0.1');
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      once(thread, 'message').then(([a]) => a as { errno: number; lost?: boolean; message?: string; id?: string }),
      new Promise<never>((_, j) => (timer = setTimeout(() => j(new Error('no answer in 20 s')), 20_000))),
    ]);
    assert.deepEqual(refused, ['c', 'c', 'c']);
    assert.equal(answer.errno, 0, JSON.stringify(answer));
    assert.match(answer.id ?? '', /^[0-9a-f]{32}$/);
  } finally {
    clearTimeout(timer);
    client.destroy();
    await thread.terminate();
    server.forceShutdown();
    await caller.close();
    await home.close();
  }
});
