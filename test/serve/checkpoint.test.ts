// cluster.checkpoint: hops — the node that hands the program on keeps it as it was at that hop. When the node that
// holds the program is killed (-9), the first node continues the run from that checkpoint: on the same node once it
// is back (restarted), or saved to a file when it does not come back in time. Either way the first node prints
// exactly what one plain run prints: the work since the checkpoint is done again, and what it prints again of what
// was printed already is left out.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfigText } from '../../src/node/config-file.js';
import { buildWasm } from '../support/build.js';
import { runCluster, type RunningCluster } from '../support/cluster.js';
import { freshDir } from '../support/forced.js';
import { runPlain } from '../support/run.js';

test('cluster.checkpoint: off by default, hops to turn it on, anything else named with its line', () => {
  const config = (cluster: string) => `name: x\napp:\n  path: ./m.wasm\nnodes:\n  cloud: { address: 127.0.0.1, port: 1 }\n${cluster}`;
  assert.equal(parseConfigText(config(''), 'k.yaml').config.cluster.checkpoint, 'off');
  assert.equal(parseConfigText(config('cluster:\n  checkpoint: hops\n'), 'k.yaml').config.cluster.checkpoint, 'hops');
  assert.throws(() => parseConfigText(config('cluster:\n  checkpoint: always\n'), 'k.yaml'), /k\.yaml:7: cluster\.checkpoint: checkpoint must be off or hops/);
});

describe('kafu serve: checkpoints (cluster.checkpoint: hops)', () => {
  let relay = '';
  let plain = '';
  let work = '';
  const args = ['4', '800'];
  before(async () => {
    relay = await buildWasm({ sources: ['test/programs/serve/relay.c'], args: ['-O1'] });
    plain = (await runPlain(relay, { args })).stdout;
    work = await freshDir('kafu-checkpoint-');
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** `peerTimeout`: how long the first node waits for the holder to come back (a restarted process needs seconds). */
  const run = (dir: string, whileRunning: (c: RunningCluster) => Promise<void>, checkpoint = 'hops', peerTimeout = 4) =>
    runCluster(relay, {
      nodes: ['cloud', 'edge'],
      args,
      output: 'first_node',
      dir,
      flags: ['--peer-timeout', String(peerTimeout)],
      clusterYaml: ['  heartbeat: { interval_ms: 200 }', `  checkpoint: ${checkpoint}`],
      whileRunning,
      timeoutMs: 90_000,
    });

  /** Edge printed its second line and stays there 800 ms: kill it after 300 (the line is delivered by then). */
  const killEdge = async (c: RunningCluster) => {
    await c.printed('cloud', 'line 3 edge\n');
    await new Promise((r) => setTimeout(r, 300));
    c.procs.get('edge')!.kill('SIGKILL');
  };

  test('the holder is killed and comes back: the run continues from the checkpoint, every line printed once', async () => {
    const dir = join(work, 'restart');
    await mkdir(dir);
    const r = await run(dir, async (c) => {
      await killEdge(c);
      await c.printed('cloud', 'continuing from the checkpoint');
      await c.restart('edge');
    }, 'hops', 30);
    assert.equal(r.nodes.cloud!.exitCode, 0, r.nodes.cloud!.stderr);
    assert.equal(r.nodes.edge!.exitCode, 0, r.nodes.edge!.stderr);
    assert.equal(r.nodes.cloud!.stdout, plain);
    assert.match(r.nodes.cloud!.stderr, /Program continues on edge from the checkpoint \([1-9]\d* bytes of its output printed already are not printed again\)/);
  });

  test('the holder comes back on an empty folder: the checkpoint, handed on whole, brings every file', async () => {
    const src = ['test/programs/serve/checkpoint_files.c'];
    const wasm = await buildWasm({ sources: src, args: ['-O1'] });
    const dir = join(work, 'empty-folder');
    await mkdir(join(dir, 'plain', 'data'), { recursive: true });
    const expected = (await runPlain(await buildWasm({ sources: src, args: ['-O1'], instrument: false }), { dir: join(dir, 'plain') })).stdout;
    const r = await runCluster(wasm, {
      nodes: ['cloud', 'edge'],
      output: 'first_node',
      dir,
      flags: ['--peer-timeout', '30'],
      clusterYaml: ['  heartbeat: { interval_ms: 200 }', '  checkpoint: hops'],
      appYaml: ['  mounts:', '    - { guest: /data, host: "./data/${node}" }'],
      timeoutMs: 90_000,
      whileRunning: async (c) => {
        await c.printed('cloud', 'edge: napping\n');
        c.procs.get('edge')!.kill('SIGKILL');
        await c.printed('cloud', 'continuing from the checkpoint');
        await rm(join(dir, 'data', 'edge'), { recursive: true, force: true }); // a pod's emptyDir, say
        await c.restart('edge');
      },
    });
    assert.equal(r.nodes.cloud!.exitCode, 0, r.nodes.cloud!.stderr + r.nodes.edge!.stderr);
    assert.equal(r.nodes.cloud!.stdout, expected);
    assert.match(expected, /edge: \/data\/dir\/note\.txt: \[brought\]/);
    assert.equal(await readFile(join(dir, 'data', 'edge', 'dir', 'note.txt'), 'utf8'), 'brought');
  });

  test('the holder does not come back: the checkpoint is saved, and --resume finishes with every line once', async () => {
    const dir = join(work, 'saved');
    await mkdir(dir);
    const lost = await run(dir, killEdge);
    assert.equal(lost.nodes.cloud!.exitCode, 1);
    const saved = /The program is saved in (\S+\.kafusnap)/.exec(lost.nodes.cloud!.stderr)?.[1];
    assert.ok(saved, lost.nodes.cloud!.stderr);
    const again = await runCluster(relay, { nodes: ['cloud', 'edge'], args, output: 'first_node', dir, nodeFlags: { cloud: ['--resume', saved] } });
    assert.equal(again.nodes.cloud!.exitCode, 0, again.nodes.cloud!.stderr);
    assert.equal(lost.nodes.cloud!.stdout + again.nodes.cloud!.stdout, plain);
  });

  test('without checkpoints, killing the holder loses the program, and the first node says so', async () => {
    const dir = join(work, 'off');
    await mkdir(dir);
    const r = await run(dir, killEdge, 'off');
    assert.equal(r.nodes.cloud!.exitCode, 1);
    assert.match(r.nodes.cloud!.stderr, /node edge, where the program was running, stopped answering; the program is lost \(cluster\.checkpoint is off\)/);
  });
});
