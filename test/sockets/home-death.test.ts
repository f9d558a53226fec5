// The node that holds a listener and its connections dies while the program runs on another node: the program's
// next calls on those sockets fail with ECONNRESET (and it goes on and exits normally), the node it runs on stays up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectTo, reader, runWithClients, socketProgram } from '../support/sockets.js';

test('sockets: the home node dies → ECONNRESET in the program, not a crash', async () => {
  const wasm = await socketProgram('home_death');
  const r = await runWithClients(
    wasm.migrating,
    {
      kind: 'serve',
      listenNode: 'edge',
      whileRunning: async (c) => {
        await c.printed('cloud', 'got: hello');
        c.procs.get('edge')!.kill('SIGKILL');
      },
    },
    [],
    async (port) => {
      const s = await connectTo(port);
      const r = reader(s);
      s.write('hello\n');
      await r.ended; // the home's process is gone: so is this connection
    },
  );
  const { cloud, edge } = r.cluster!.nodes;
  assert.equal(edge!.exitCode, null, 'edge was killed');
  assert.equal(cloud!.exitCode, 0, cloud!.stderr);
  assert.equal(
    cloud!.stdout,
    [
      'got: hello',
      'recv: -1 Connection reset by peer',
      'send: -1 Connection reset by peer',
      'accept: -1 Connection reset by peer',
      'close: 0',
      '',
    ].join('\n'),
  );
  assert.match(cloud!.stderr, /socket recv at node edge: .*the program's socket is reset/);
});

// The home is stopped, not killed (as a machine that lost power or a network partition looks): nothing closes the
// relay's connection, so the program's blocked recv (no deadline) ends only because keepalive pings go unanswered;
// the accept after it needs a new connection, whose TLS handshake the stopped home never answers: it starts only on
// a connection that is up within --peer-timeout.
test('sockets: the home node falls silent → ECONNRESET in the program within a bounded time, not a hang', async () => {
  const wasm = await socketProgram('home_death');
  const r = await runWithClients(
    wasm.migrating,
    {
      kind: 'serve',
      listenNode: 'edge',
      whileRunning: async (c) => {
        await c.printed('cloud', 'got: hello');
        c.procs.get('edge')!.kill('SIGSTOP');
        await c.printed('cloud', 'accept: ');
        c.procs.get('edge')!.kill('SIGKILL');
      },
      flags: ['--peer-timeout', '5'],
    },
    [],
    async (port) => {
      const s = await connectTo(port);
      const r = reader(s);
      s.write('hello\n');
      await r.ended;
    },
    60_000,
  );
  const { cloud } = r.cluster!.nodes;
  assert.equal(cloud!.exitCode, 0, cloud!.stderr);
  assert.equal(
    cloud!.stdout,
    ['got: hello', 'recv: -1 Connection reset by peer', 'send: -1 Connection reset by peer', 'accept: -1 Connection reset by peer', 'close: 0', ''].join('\n'),
  );
  assert.match(cloud!.stderr, /socket recv at node edge: .*the program's socket is reset/);
  assert.match(cloud!.stderr, /socket accept at node edge: .*the program's socket is reset/);
});
