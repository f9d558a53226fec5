// The home of a listener is restarted while the program waits there: the first node continues the run from the
// checkpoint of the hop (cluster.checkpoint: hops) on the new process, which opened the listener again under a new
// handle. The program arrives holding the old one; it is given the new one (same address and port), so it accepts
// the next client instead of failing with ECONNRESET while clients wait unanswered in the backlog.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectTo, reader, runWithClients, socketProgram } from '../support/sockets.js';

test('sockets: a listener whose home restarted accepts again after a checkpoint recovery', async () => {
  const wasm = await socketProgram('relisten');
  let resumed!: () => void;
  const continued = new Promise<void>((r) => (resumed = r));
  const r = await runWithClients(
    wasm.migrating,
    {
      kind: 'serve',
      listenNode: 'edge',
      clusterYaml: ['  heartbeat: { interval_ms: 200 }', '  checkpoint: hops'],
      flags: ['--peer-timeout', '30'],
      whileRunning: async (c) => {
        await c.printed('cloud', 'waiting on edge');
        c.procs.get('edge')!.kill('SIGKILL');
        await c.printed('cloud', 'continuing from the checkpoint');
        await c.restart('edge');
        await c.printed('cloud', 'Program continues on edge from the checkpoint');
        resumed();
      },
    },
    [],
    async (port) => {
      await continued;
      const s = await connectTo(port);
      const rd = reader(s);
      s.write('hello\n');
      return (await rd.ended).toString();
    },
    90_000,
  );
  const { cloud, edge } = r.cluster!.nodes;
  assert.equal(cloud!.exitCode, 0, cloud!.stderr);
  assert.equal(edge!.exitCode, 0, edge!.stderr);
  assert.equal(cloud!.stdout, 'waiting on edge\nserved: hello\n');
  assert.equal(r.clients, 'HELLO\n');
});
