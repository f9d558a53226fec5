// The node that holds a listener and its connections dies while the program runs on another node: the program's
// next calls on those sockets fail with ECONNRESET (and it goes on and exits normally), the node it runs on stays up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunningCluster } from '../support/cluster.js';
import { connectTo, reader, runWithClients, socketProgram } from '../support/sockets.js';

/** What the program prints once its home is gone: every later call on its sockets is reset. */
const RESET_OUTPUT = [
  'got: hello',
  'recv: -1 Connection reset by peer',
  'send: -1 Connection reset by peer',
  'accept: -1 Connection reset by peer',
  'close: 0',
  '',
].join('\n');

/**
 * home_death.c with its listener on edge: a client sends a line, and once the program (on cloud) got it, `toEdge`
 * does what happens to the home; the client's connection ends with the home's process.
 */
async function homeDies(toEdge: (c: RunningCluster) => Promise<void>, o: { flags?: string[]; timeoutMs?: number } = {}) {
  const wasm = await socketProgram('home_death');
  return runWithClients(
    wasm.migrating,
    {
      kind: 'serve',
      listenNode: 'edge',
      whileRunning: async (c) => {
        await c.printed('cloud', 'got: hello');
        await toEdge(c);
      },
      ...(o.flags ? { flags: o.flags } : {}),
    },
    [],
    async (port) => {
      const s = await connectTo(port);
      const r = reader(s);
      s.write('hello\n');
      await r.ended; // the home's process is gone: so is this connection
    },
    o.timeoutMs,
  );
}

test('sockets: the home node dies → ECONNRESET in the program, not a crash', async () => {
  const r = await homeDies(async (c) => void c.procs.get('edge')!.kill('SIGKILL'));
  const { cloud, edge } = r.cluster!.nodes;
  assert.equal(edge!.exitCode, null, 'edge was killed');
  assert.equal(cloud!.exitCode, 0, cloud!.stderr);
  assert.equal(cloud!.stdout, RESET_OUTPUT);
  assert.match(cloud!.stderr, /socket recv at node edge: .*the program's socket is reset/);
});

// The home is stopped, not killed (as a machine that lost power or a network partition looks): nothing closes the
// relay's connection, so the program's blocked recv (no deadline) ends only because keepalive pings go unanswered;
// the accept after it needs a new connection, whose TLS handshake the stopped home never answers: it starts only on
// a connection that is up within --peer-timeout.
test('sockets: the home node falls silent → ECONNRESET in the program within a bounded time, not a hang', async () => {
  const r = await homeDies(
    async (c) => {
      c.procs.get('edge')!.kill('SIGSTOP');
      await c.printed('cloud', 'accept: ');
      c.procs.get('edge')!.kill('SIGKILL');
    },
    { flags: ['--peer-timeout', '5'], timeoutMs: 60_000 },
  );
  const { cloud } = r.cluster!.nodes;
  assert.equal(cloud!.exitCode, 0, cloud!.stderr);
  assert.equal(cloud!.stdout, RESET_OUTPUT);
  assert.match(cloud!.stderr, /socket recv at node edge: .*the program's socket is reset/);
  assert.match(cloud!.stderr, /socket accept at node edge: .*the program's socket is reset/);
});
