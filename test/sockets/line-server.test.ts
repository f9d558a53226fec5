// A line server whose answers are made and sent on another node than its listener's home (KAFU_DEST): the same
// clients get the same answers, and the program prints the same, with no migration (`kafu run --tcplisten`), with a
// migration after every WASI call in one process (`kafu singlenode`), and across `kafu serve` processes, where every
// socket call made away from the home goes through the relay. One client disconnects while the program is moving.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { connectTo, reader, runWithClients, socketProgram, type SocketMode } from '../support/sockets.js';

const EXPECTED_STDOUT = ['connection 1: 3 lines', 'connection 2: 2 lines', 'connection 3: 1 lines', 'served 3 connections, 6 answers', ''].join('\n');

/** Three clients, one after the other (the server accepts them in turn); what the first and last ones received. */
async function clients(port: number): Promise<string[]> {
  const a = await connectTo(port);
  const ra = reader(a);
  a.write('hello\nworld\n');
  await ra.until('1:HELLO\n2:WORLD\n'.length);
  a.write('third\n');
  await ra.until('1:HELLO\n2:WORLD\n3:THIRD\n'.length);
  a.end();
  const first = (await ra.ended).toString();

  // Sends two lines and goes away as soon as the first answer shows the server has them: its second answer finds
  // no one (the program's send fails, or not, depending on timing; nothing else may differ).
  const b = await connectTo(port);
  const rb = reader(b);
  b.end('a\nb\n');
  await rb.until(4);
  b.destroy();

  const c = await connectTo(port);
  const rc = reader(c);
  c.end('last\n');
  const last = (await rc.ended).toString();
  return [first, last];
}

describe('sockets: a line server answering from another node', () => {
  let wasm: { plain: string; migrating: string };
  before(async () => {
    wasm = await socketProgram('line_server');
  });

  const check = async (binary: 'plain' | 'migrating', mode: SocketMode) => {
    const r = await runWithClients(wasm[binary], mode, ['3'], clients);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, EXPECTED_STDOUT, r.stderr);
    assert.deepEqual(r.clients, ['1:HELLO\n2:WORLD\n3:THIRD\n', '6:LAST\n']);
    return r;
  };

  test('kafu run --tcplisten: no migration', async () => {
    await check('plain', { kind: 'run' });
  });

  test('kafu singlenode: a migration after every WASI call', async () => {
    const r = await check('migrating', { kind: 'singlenode', forceEvery: 1 });
    assert.ok((r.stderr.match(/Migration /g) ?? []).length > 20, r.stderr);
  });

  test('kafu serve: a migration after every WASI call, socket calls relayed to the home node', async () => {
    const r = await check('migrating', { kind: 'serve', forceEvery: 1 });
    assert.ok((r.stderr.match(/Migration edge -> cloud/g) ?? []).length > 8, r.stderr);
    assert.doesNotMatch(r.stderr, /WARN|ERROR/);
  });
});
