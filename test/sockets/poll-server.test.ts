// An echo server with 50 concurrent connections, driven by poll() on non-blocking sockets: every client gets back
// exactly what it sent, and the program prints the same, with no migration, with a migration after every WASI call
// in one process, and across `kafu serve` processes (listener on the second node: whenever the program runs on the
// first, poll and every read and write go through the relay).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { connectTo, reader, runWithClients, socketProgram, type SocketMode } from '../support/sockets.js';

const CLIENTS = 50;

/** Client i's k-th message (lengths vary, so reads and writes split differently). */
const message = (i: number, k: number) => `c${i}-m${k}-${'x'.repeat((i * 37 + k * 101) % 700)}\n`;

/** 50 clients at once, each sending `messages` messages and waiting for each echo; what each got back, whole. */
async function clients(port: number, messages: number): Promise<{ ok: number; bytes: number }> {
  let bytes = 0;
  const results = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const s = await connectTo(port);
      const r = reader(s);
      let sent = '';
      for (let k = 0; k < messages; k++) {
        const m = message(i, k);
        sent += m;
        s.write(m);
        await r.until(Buffer.byteLength(sent));
      }
      s.end();
      const got = (await r.ended).toString();
      bytes += Buffer.byteLength(sent);
      return got === sent;
    }),
  );
  return { ok: results.filter(Boolean).length, bytes };
}

describe('sockets: 50 concurrent connections with poll()', () => {
  let wasm: { plain: string; migrating: string };
  before(async () => {
    wasm = await socketProgram('poll_server');
  });

  const check = async (binary: 'plain' | 'migrating', mode: SocketMode, messages: number) => {
    const r = await runWithClients(wasm[binary], mode, [String(CLIENTS)], (port) => clients(port, messages));
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.clients.ok, CLIENTS, 'every client got back exactly what it sent');
    assert.equal(r.stdout, `served ${CLIENTS} connections, ${r.clients.bytes} bytes echoed\n`, r.stderr);
    return r;
  };

  test('kafu run --tcplisten: no migration', async () => {
    await check('plain', { kind: 'run' }, 10);
  });

  test('kafu singlenode: a migration after every WASI call', async () => {
    const r = await check('migrating', { kind: 'singlenode', forceEvery: 1 }, 4);
    assert.ok((r.stderr.match(/Migration /g) ?? []).length > 200, r.stderr);
  });

  test('kafu serve: the listener on the other node, a migration after every WASI call', async () => {
    const r = await check('migrating', { kind: 'serve', forceEvery: 1, listenNode: 'edge' }, 2);
    assert.ok((r.stderr.match(/Migration cloud -> edge/g) ?? []).length > 100, r.stderr);
    assert.doesNotMatch(r.stderr, /WARN|ERROR/);
  });
});
