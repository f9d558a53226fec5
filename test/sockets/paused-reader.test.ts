// A client that reads only after a pause, so that the program's sends fill the kernel's buffer and queue at the home
// (Node keeps a reference to a queued write's bytes, not a copy): every byte must still arrive as sent, with the
// program on the listener's home — in its own process (`kafu run`) and on a `kafu serve` node.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { connectTo, reader, runWithClients, socketProgram, type SocketMode } from '../support/sockets.js';

const MIB = 16;
const TOTAL = MIB << 20;
const PAUSE_MS = 1500;

/** Connects, waits before reading anything, then reads to the end; the offsets of the bytes that differ (the first few). */
async function client(port: number): Promise<{ received: number; wrong: number[] }> {
  const s = await connectTo(port);
  s.pause();
  await new Promise((r) => setTimeout(r, PAUSE_MS));
  const r = reader(s);
  s.resume(); // (a stream paused on purpose stays paused when a reader is attached)
  const got = await r.ended;
  const wrong: number[] = [];
  for (let i = 0; i < got.length && wrong.length < 5; i++) if (got[i] !== ((i * 31 + Math.floor(i / 65536) * 101 + 7) & 0xff)) wrong.push(i);
  return { received: got.length, wrong };
}

describe('sockets: large sends to a client that reads late arrive intact', () => {
  let wasm: { plain: string; migrating: string };
  before(async () => {
    wasm = await socketProgram('burst');
  });

  const check = async (binary: 'plain' | 'migrating', mode: SocketMode) => {
    const r = await runWithClients(wasm[binary], mode, [String(MIB)], client);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, `sent ${TOTAL} bytes\n`, r.stderr);
    assert.deepEqual(r.clients, { received: TOTAL, wrong: [] });
  };

  test('kafu run --tcplisten', async () => {
    await check('plain', { kind: 'run' });
  });

  test('kafu serve: the program runs on the home node', async () => {
    await check('migrating', { kind: 'serve' });
  });
});
