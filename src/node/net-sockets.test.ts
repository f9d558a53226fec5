// A node's host sockets with real TCP clients: a call that is not the next one on its socket (the program was set
// back to an earlier state, e.g. a checkpoint continued after a node died) resets that socket instead of receiving
// or sending bytes a second time.
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { test } from 'node:test';
import { Errno } from '../wasi/errno.js';
import { NetSockets } from './net-sockets.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('a replayed socket call resets the socket; calls in order work', async () => {
  const net = new NetSockets();
  const port = await freePort();
  const home = 'here';
  const lid = await net.listen('127.0.0.1', port);
  const client = connect(port, '127.0.0.1');
  const closed = new Promise<void>((r) => client.on('close', () => r()));
  client.on('error', () => undefined);
  client.write('abcdef');
  try {
    const a = await net.handle({ op: 'accept', home, id: lid, seq: 1, nonblocking: false }, undefined);
    assert.equal(a.result.errno, 0);
    const id = a.result.id!;
    const recv = (seq: number) => net.handle({ op: 'recv', home, id, seq, maxBytes: 3, peek: false, waitAll: true, nonblocking: false }, undefined);
    assert.equal(Buffer.from((await recv(1)).data!).toString(), 'abc');
    assert.equal(Buffer.from((await recv(2)).data!).toString(), 'def');
    const replay = await recv(2);
    assert.equal(replay.result.errno, Errno.CONNRESET);
    assert.equal(replay.result.lost, true);
    await closed; // the client sees the connection go, rather than a stream with a hole or a repeat in it
    assert.equal((await recv(3)).result.lost, true, 'reset for good');
    const again = await net.handle({ op: 'accept', home, id: lid, seq: 1, nonblocking: true }, undefined);
    assert.equal(again.result.lost, true, 'the listener too');
  } finally {
    client.destroy();
    await net.closeAll(100);
  }
});
