// A node whose port speaks only gRPC (an older version, its server bound by grpc-js itself) still gets programs:
// the hand-off client learns it from TLS's ALPN (mutual TLS) or from the answer to its magic (plaintext) and sends
// with gRPC's Migrate from then on.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeClusterCerts } from '../../src/certs/files.js';
import { createLogger } from '../../src/core/log.js';
import { migrateBody } from '../../src/serve/migrate-body.js';
import { Peers } from '../../src/serve/peers.js';
import { addKafuNodeService, type KafuNodeHandlers, type MigrateStart } from '../../src/serve/protocol.js';
import { loadNodeTls, serverCredentials, type NodeTls } from '../../src/serve/tls.js';
import { freePorts } from '../support/cluster.js';

test('a peer whose port speaks only gRPC gets the hand-off with gRPC Migrate (mutual TLS and plaintext)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kafu-fallback-'));
  try {
    await writeClusterCerts('x', ['cloud', 'edge'].map((id) => ({ id, address: '127.0.0.1', port: 1 })), join(dir, 'certs'), { days: 30 });
    const tlsOf = (id: string) => loadNodeTls(join(dir, 'x.yaml'), { ca: './certs/ca.crt', cert: './certs/${node}.crt', key: './certs/${node}.key' }, id)!;
    for (const [name, [cloud, edge]] of [['mutual TLS', [tlsOf('cloud'), tlsOf('edge')]], ['plaintext', [undefined, undefined]]] as [string, (NodeTls | undefined)[]][]) {
      const [port] = await freePorts(1);
      const received: number[] = [];
      const none = async () => { throw new Error('not used'); };
      const handlers: KafuNodeHandlers = {
        hello: none, output: none, input: none, heartbeat: none, shutdown: none, socket: none,
        migrateStart: () => undefined,
        migrate: async (_start, data) => {
          received.push(data.reduce((n, d) => n + d.byteLength, 0));
          return { downtimeMs: 1.5 };
        },
      };
      const server = new grpc.Server();
      addKafuNodeService(server, handlers);
      await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, serverCredentials(edge), (e) => (e ? reject(e) : resolve())));
      const peers = new Peers('cloud', [{ id: 'cloud', address: '127.0.0.1', port: 1 }, { id: 'edge', address: '127.0.0.1', port: port! }] as never, createLogger(() => {}), cloud);
      try {
        const start: MigrateStart = { from: 'cloud', to: 'edge', moduleSha256: '', reason: '', suspendedAtMs: 0, totalBytes: 3 << 20, snapshotId: 'a', output: [] };
        const body = migrateBody([new Uint8Array(3 << 20).fill(7)]);
        assert.equal(peers.handoffTransport('edge'), 'direct');
        for (const id of ['a', 'b']) {
          const reply = await peers.retry('edge', 'test', { timeoutMs: 10_000, attemptMs: 10_000 }, (c, ms) => peers.migrate('edge', c, { ...start, snapshotId: id }, body, ms));
          assert.equal(reply.downtimeMs, 1.5, name);
        }
        assert.deepEqual(received, [3 << 20, 3 << 20], `${name}: both hand-offs arrived whole`);
        assert.equal(peers.handoffTransport('edge'), 'gRPC', name);
      } finally {
        peers.close();
        server.forceShutdown();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
