// Peers.client replaces a connection that is backing off from a failed connect (the peer was not up yet), so that a
// call that needs the peer now does not fail at once; a call already queued on the old connection (waitForReady,
// e.g. the Shutdown that tells a restarting node the run ended) must not be cancelled by that replacement.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { createLogger } from '../core/log.js';
import { Peers } from './peers.js';
import { addKafuNodeService, type HelloReply } from './protocol.js';
import { serverCredentials } from './tls.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

test('a waitForReady call queued on a backing-off connection survives its replacement and is answered', async () => {
  const port = await freePort();
  const peers = new Peers('cloud', [
    { id: 'cloud', address: '127.0.0.1', port: 1 },
    { id: 'edge', address: '127.0.0.1', port },
  ] as never, createLogger(() => {}), undefined);
  const old = peers.client('edge');
  old.connect();
  // Nothing listens yet: the connection fails and backs off.
  for (let i = 0; i < 100 && !old.backingOff(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(old.backingOff(), 'the first connect failed');
  const queued = old.hello({ from: 'cloud' }, { deadlineMs: 8000, waitForReady: true });
  // Another call needs edge now: the backing-off connection is replaced.
  const fresh = peers.client('edge');
  assert.notEqual(fresh, old);
  // edge comes up; the queued call goes through on the old connection's next attempt.
  const server = new grpc.Server();
  const reply: HelloReply = { nodeId: 'edge', configName: 'x', moduleSha256: 'ab', storage: {}, runtime: 'test', listeners: [] };
  const none = async () => { throw new Error('not used'); };
  addKafuNodeService(server, {
    hello: async () => reply, output: none, input: none, heartbeat: none, shutdown: none, socket: none, migrate: none,
    migrateStart: () => { throw new Error('not used'); },
  } as never);
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, serverCredentials(undefined), (e) => (e ? reject(e) : resolve())));
  try {
    assert.equal((await queued).nodeId, 'edge');
    assert.equal((await fresh.hello({ from: 'cloud' }, { deadlineMs: 8000, waitForReady: true })).nodeId, 'edge');
  } finally {
    peers.close();
    old.close();
    server.forceShutdown();
  }
});
