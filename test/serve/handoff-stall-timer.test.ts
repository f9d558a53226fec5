// The receiving side of the direct hand-off transport keeps one stall timer per connection and pushes it back as
// bytes arrive: a first hop of 64 MiB comes in thousands of socket chunks, and a timer made and cleared for each cost
// the receiving thread several ms of it. Counted here (the timers made while a hand-off of 4 MiB, ~64 chunks or more
// on loopback, is received), not timed.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { test } from 'node:test';
import { HandoffClient, HandoffServer } from '../../src/serve/handoff-transport.js';
import { migrateBody } from '../../src/serve/migrate-body.js';
import { listenNode } from '../../src/serve/node-listener.js';
import { addKafuNodeService, type KafuNodeHandlers, type MigrateStart } from '../../src/serve/protocol.js';
import { freePorts } from '../support/cluster.js';

test('a hand-off received in many chunks makes a few timers, not one per chunk', async () => {
  const received: number[] = [];
  const fail = () => Promise.reject(new Error('not in this test'));
  const handlers: KafuNodeHandlers = {
    hello: fail, output: fail, input: fail, shutdown: fail, socket: fail, heartbeat: fail,
    migrateStart: () => () => {},
    migrate: async (start, data) => {
      received.push(data.reduce((n, c) => n + c.byteLength, 0));
      if (received.at(-1) !== start.totalBytes) throw new Error('short');
      return { downtimeMs: 0 };
    },
  };
  const slot = { busy: false };
  const srv = new grpc.Server();
  addKafuNodeService(srv, handlers, slot);
  const handoffs = new HandoffServer(handlers, slot);
  let chunks = 0;
  const [port] = await freePorts(1);
  const listener = await listenNode({
    host: '127.0.0.1',
    port: port!,
    tls: undefined,
    grpcServer: srv,
    onHandoff: (s, caller) => {
      s.on('data', () => chunks++);
      handoffs.accept(s, caller);
    },
  });
  const client = new HandoffClient('127.0.0.1', port!, 'edge', undefined);
  try {
    const bytes = new Uint8Array(4 << 20).map((_, i) => i * 7);
    const start: MigrateStart = { from: 'cloud', to: 'edge', moduleSha256: '', reason: '', suspendedAtMs: 0, totalBytes: bytes.byteLength, snapshotId: 'x', output: [] };
    // A first hand-off opens the connection; the second is counted.
    await client.migrate({ ...start, snapshotId: 'warm', totalBytes: 1024 }, migrateBody([bytes.subarray(0, 1024)]), { deadlineMs: 10_000 });
    const real = globalThis.setTimeout;
    let made = 0;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      made++;
      return real(...args);
    }) as typeof setTimeout;
    const chunksBefore = chunks;
    try {
      await client.migrate(start, migrateBody([bytes]), { deadlineMs: 10_000 });
    } finally {
      globalThis.setTimeout = real;
    }
    assert.deepEqual(received, [1024, bytes.byteLength]);
    const arrived = chunks - chunksBefore;
    assert.ok(arrived >= 16, `the hand-off came in ${arrived} chunks: too few to tell`);
    // (The sender's deadline and the receiver's stall timer; a few to spare, far fewer than the chunks.)
    assert.ok(made <= 4, `${made} timers made while ${arrived} chunks arrived`);
  } finally {
    client.close();
    listener.close();
    srv.forceShutdown();
  }
});
