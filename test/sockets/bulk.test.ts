// 10 MiB each way through the relay: the program reads and writes on node "edge", its listener's home is the first
// node. Every byte arrives, in order (the program hashes what it got, the client checks what came back), with no
// migration, with a migration after every WASI call in one process, and across `kafu serve` processes.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { connectTo, reader, runWithClients, socketProgram, type SocketMode } from '../support/sockets.js';

const MIB = 10;
const TOTAL = MIB << 20;

/** What the client sends: not a pattern the program could mistake for its own. */
function payload(): Buffer {
  const b = Buffer.alloc(TOTAL);
  let x = 12345;
  for (let i = 0; i < TOTAL; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function fnv1a(b: Buffer): string {
  let h = 2166136261;
  for (const byte of b) h = Math.imul(h ^ byte, 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Sends the payload (the socket's own flow control paces it), then reads the program's bytes and checks them. */
async function client(port: number, data: Buffer): Promise<{ received: number; patternOk: boolean }> {
  const s = await connectTo(port);
  const r = reader(s);
  s.write(data);
  const got = await r.ended;
  let patternOk = got.length === TOTAL;
  for (let i = 0; patternOk && i < got.length; i++) if (got[i] !== ((i * 31 + 7) & 0xff)) patternOk = false;
  return { received: got.length, patternOk };
}

describe('sockets: 10 MiB each way through the relay', () => {
  let wasm: { plain: string; migrating: string };
  let data: Buffer;
  let expected: string;
  before(async () => {
    wasm = await socketProgram('bulk');
    data = payload();
    expected = `received ${TOTAL} bytes, fnv1a ${fnv1a(data)}; sent ${TOTAL} bytes\n`;
  });

  const check = async (binary: 'plain' | 'migrating', mode: SocketMode) => {
    const r = await runWithClients(wasm[binary], mode, [String(MIB)], (port) => client(port, data));
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, expected, r.stderr);
    assert.deepEqual(r.clients, { received: TOTAL, patternOk: true });
    return r;
  };

  test('kafu run --tcplisten: no migration', async () => {
    await check('plain', { kind: 'run' });
  });

  test('kafu singlenode: a migration after every WASI call', async () => {
    await check('migrating', { kind: 'singlenode', forceEvery: 1 });
  });

  test('kafu serve: every socket call relayed from edge to the home node', async () => {
    const r = await check('migrating', { kind: 'serve' });
    assert.match(r.stderr, /Migration cloud -> edge \(Entering transfer\)/);
  });

  test('kafu serve: a migration after every WASI call', async () => {
    await check('migrating', { kind: 'serve', forceEvery: 1 });
  });
});
