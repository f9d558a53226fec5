// The Socket call under attack, from a node with a member's certificate (the strongest attacker short of running the
// program): the node the program runs on refuses it outright; the idle home answers a made-up handle with a reset
// (the handle is the capability), a malformed request with INVALID_ARGUMENT, and a caller claiming another node's
// name with PERMISSION_DENIED. The program goes on serving its client as if nothing happened.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { KafuNodeClient, type SocketRequest } from '../../src/serve/protocol.js';
import { loadNodeTls } from '../../src/serve/tls.js';
import { connectTo, reader, runWithClients, socketProgram } from '../support/sockets.js';

const status = (e: unknown) => (e as { code?: number }).code;

test('sockets: Socket calls from the wrong node, with made-up handles or malformed, are refused alone', async () => {
  const wasm = await socketProgram('line_server');
  const answers: Record<string, unknown> = {};
  let attackOver!: () => void;
  const attacked = new Promise<void>((d) => (attackOver = d));
  const r = await runWithClients(
    wasm.migrating,
    {
      kind: 'serve',
      listenNode: 'edge',
      whileRunning: async (c, dir) => {
        await c.printed('cloud', 'Program is starting on cloud');
        await new Promise((d) => setTimeout(d, 1000)); // the program waits in accept (at edge) by now
        const config = join(dir, 'kafu-config.yaml');
        const ports = [...(await readFile(config, 'utf8')).matchAll(/^    port: (\d+)$/gm)].map((m) => Number(m[1]));
        const tlsOf = (node: string) => loadNodeTls(config, { ca: './certs/ca.crt', cert: './certs/${node}.crt', key: './certs/${node}.key' }, node)!;
        const asEdge = new KafuNodeClient(`127.0.0.1:${ports[0]}`, 'cloud', tlsOf('edge'));
        const asCloud = new KafuNodeClient(`127.0.0.1:${ports[1]}`, 'edge', tlsOf('cloud'));
        const recv = (from: string, id: string): Partial<SocketRequest> => ({ from, op: 'recv', id, seq: 1, maxBytes: 10, nonblocking: true });
        const call = async (name: string, client: KafuNodeClient, req: Partial<SocketRequest>) => {
          try {
            answers[name] = await client.socket(req, { deadlineMs: 5000 });
          } catch (e) {
            answers[name] = { status: status(e), details: (e as { details?: string }).details };
          }
        };
        await call('to the node running the program', asEdge, recv('edge', 'ab'.repeat(16)));
        await call('a made-up handle', asCloud, recv('cloud', 'ab'.repeat(16)));
        await call('a malformed handle', asCloud, recv('cloud', '../../etc/passwd'));
        await call('too many bytes asked', asCloud, { ...recv('cloud', 'ab'.repeat(16)), maxBytes: 1 << 30 });
        await call('an unknown op', asCloud, { from: 'cloud', op: 'connect', id: 'ab'.repeat(16) });
        await call('claiming to be edge', asCloud, recv('edge', 'ab'.repeat(16)));
        asEdge.close();
        asCloud.close();
        attackOver();
      },
    },
    ['1'],
    async (port) => {
      await attacked;
      const s = await connectTo(port);
      const rd = reader(s);
      s.end('after the attack\n');
      return (await rd.ended).toString();
    },
  );
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.clients, '1:AFTER THE ATTACK\n');
  assert.equal(r.stdout, 'connection 1: 1 lines\nserved 1 connections, 1 answers\n');
  const denied = answers['to the node running the program'] as { status: number; details: string };
  assert.equal(denied.status, 7, JSON.stringify(denied)); // PERMISSION_DENIED
  assert.match(denied.details, /socket calls come from the node that runs the program, which is cloud, not edge/);
  const madeUp = answers['a made-up handle'] as { errno: number; lost: boolean };
  assert.equal(madeUp.errno, 15); // ECONNRESET
  assert.equal(madeUp.lost, true);
  for (const name of ['a malformed handle', 'too many bytes asked', 'an unknown op']) {
    assert.equal((answers[name] as { status: number }).status, 3, `${name}: ${JSON.stringify(answers[name])}`); // INVALID_ARGUMENT
  }
  assert.equal((answers['claiming to be edge'] as { status: number }).status, 7);
});
