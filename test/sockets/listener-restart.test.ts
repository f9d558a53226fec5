// The home of a listener is restarted while the program waits there: the first node continues the run from the
// checkpoint of the hop (cluster.checkpoint: hops) on the new process, which opened the listener again under a new
// handle. The program arrives holding the old one; it is given the new one (same address and port), so it accepts
// the next client instead of failing with ECONNRESET while clients wait unanswered in the backlog.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePorts, runCluster } from '../support/cluster.js';
import { NODES, connectTo, reader, runWithClients, socketProgram } from '../support/sockets.js';

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

// The listener's home is the first node; the program waits on edge when edge is killed and does not come back: the
// checkpoint is saved, and the whole cluster is started again with --resume. The program resumes on edge holding the
// first node's old listener handle; edge learned the new one in the first node's Hello.
test('sockets: a listener of the first node accepts again in a program resumed on another node (--resume)', async () => {
  const wasm = await socketProgram('relisten');
  const [port] = await freePorts(1);
  const dir = await mkdtemp(join(tmpdir(), 'kafu-relisten-'));
  try {
    const common = {
      dir,
      nodes: NODES,
      output: 'first_node' as const,
      appYaml: ['  listen:', `    - { address: 127.0.0.1, port: ${port} }`],
      clusterYaml: ['  heartbeat: { interval_ms: 200 }', '  checkpoint: hops'],
      timeoutMs: 90_000,
    };
    const lost = await runCluster(wasm.migrating, {
      ...common,
      flags: ['--peer-timeout', '4'],
      whileRunning: async (c) => {
        await c.printed('cloud', 'waiting on edge');
        c.procs.get('edge')!.kill('SIGKILL');
      },
    });
    assert.equal(lost.nodes.cloud!.exitCode, 1, lost.nodes.cloud!.stderr);
    const saved = /The program is saved in (\S+\.kafusnap)/.exec(lost.nodes.cloud!.stderr)?.[1];
    assert.ok(saved, lost.nodes.cloud!.stderr);
    let answer = '';
    const again = await runCluster(wasm.migrating, {
      ...common,
      nodeFlags: { cloud: ['--resume', saved] },
      whileRunning: async (c) => {
        await c.printed('cloud', 'Program is resuming on edge');
        const s = await connectTo(port!);
        const rd = reader(s);
        s.write('hello\n');
        answer = (await rd.ended).toString();
      },
    });
    assert.equal(again.nodes.cloud!.exitCode, 0, again.nodes.cloud!.stderr + again.nodes.edge!.stderr);
    assert.equal(lost.nodes.cloud!.stdout + again.nodes.cloud!.stdout, 'waiting on edge\nserved: hello\n');
    assert.equal(answer, 'HELLO\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
