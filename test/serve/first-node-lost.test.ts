// The first node dies (kill -9) while another node holds the program: the program is never dropped. The holder
// saves it with the output the first node did not print (shutdown_self: at its next migration point; ignore: when
// the hand-off back fails), and `--resume` prints that output first and finishes: the first node's stdout of the
// lost run and of the resumed one are together exactly a plain run's. A program that can finish without the first
// node finishes on the holder, which prints what the first node could not.
import assert from 'node:assert/strict';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildWasm } from '../support/build.js';
import { runCluster, type ClusterRun } from '../support/cluster.js';
import { freshDir } from '../support/forced.js';
import { runPlain } from '../support/run.js';

const SAVED = /The program is saved in (\S+\.kafusnap); start the nodes again and continue it with `kafu serve --node-id cloud --resume \S+ \S+`/;

describe('kafu serve: the first node dies while another node holds the program', () => {
  let outlive = '';
  let work = '';
  before(async () => {
    outlive = await buildWasm({ sources: ['test/programs/serve/outlive.c'], args: ['-O1'] });
    work = await freshDir('kafu-first-lost-');
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** outlive.c with `args` on `nodes`; cloud is killed (-9) once the program waits on edge. */
  const killCloud = (dir: string, nodes: string[], args: string[], policy: string) =>
    runCluster(outlive, {
      nodes,
      args,
      output: 'first_node',
      dir,
      flags: ['--peer-timeout', '2'],
      clusterYaml: [`  heartbeat: { interval_ms: 400, follower_on_coordinator_lost: ${policy} }`],
      whileRunning: async (c) => {
        await c.printed('cloud', 'edge: waiting');
        // (Not in the instant between printing a batch and acknowledging it: that batch would be printed twice.)
        await new Promise((r) => setTimeout(r, 300));
        c.procs.get('cloud')!.kill('SIGKILL');
      },
    });

  /** The saved file named by `node`'s log, resumed with every node back: cloud's stdout of both runs = the plain run. */
  async function resumeAndCompare(lost: ClusterRun, node: string, dir: string, nodes: string[], args: string[]) {
    const saved = SAVED.exec(lost.nodes[node]!.stderr)?.[1];
    assert.ok(saved, lost.nodes[node]!.stderr);
    assert.equal(dirname(saved), dir);
    const resumed = await runCluster(outlive, { nodes, args, output: 'first_node', dir, nodeFlags: { cloud: ['--resume', saved] } });
    assert.equal(resumed.nodes.cloud!.exitCode, 0, resumed.nodes.cloud!.stderr + resumed.nodes.edge!.stderr);
    const plain = await runPlain(outlive, { args });
    assert.equal(lost.nodes.cloud!.stdout + resumed.nodes.cloud!.stdout, plain.stdout);
    assert.match(resumed.nodes.cloud!.stdout, /^edge: woke after 6 s, line 0\n/, 'the saved output comes first');
  }

  test('shutdown_self: the idle follower stops; the holder saves the program and its undelivered output at its next migration point', async () => {
    const dir = join(work, 'shutdown-self');
    await mkdir(dir);
    const nodes = ['cloud', 'edge', 'fog'];
    const lost = await killCloud(dir, nodes, ['6'], 'shutdown_self');
    const { edge, fog } = lost.nodes;
    assert.equal(fog!.exitCode, 1, fog!.stderr);
    assert.match(fog!.stderr, /lost the first node cloud: no heartbeat for \d+\.\d s/);
    assert.equal(edge!.exitCode, 1, edge!.stderr);
    assert.match(edge!.stderr, /lost the first node cloud: .*; the program runs here: it is saved at its next migration point/);
    assert.doesNotMatch(edge!.stderr, /stopping: fog/, 'a follower that stops does not stop the holder');
    await resumeAndCompare(lost, 'edge', dir, nodes, ['6']);
  });

  test('ignore: the holder runs on, and saves the program with its undelivered output when it cannot go back', async () => {
    const dir = join(work, 'ignore');
    await mkdir(dir);
    const lost = await killCloud(dir, ['cloud', 'edge'], ['6'], 'ignore');
    const { edge } = lost.nodes;
    assert.equal(edge!.exitCode, 1, edge!.stderr);
    assert.match(edge!.stderr, /program output cannot reach the first node: .*this node keeps it/);
    assert.match(edge!.stderr, /migrating the program to cloud: node cloud \(127\.0\.0\.1:\d+\) is not reachable/);
    await resumeAndCompare(lost, 'edge', dir, ['cloud', 'edge'], ['6']);
  });

  test('a program that can finish without the first node finishes on the holder, which prints the rest of its output', async () => {
    const dir = join(work, 'finish');
    await mkdir(dir);
    const lost = await killCloud(dir, ['cloud', 'edge'], ['6', 'exit'], 'shutdown_self');
    const { cloud, edge } = lost.nodes;
    assert.equal(edge!.exitCode, 7, edge!.stderr);
    const plain = await runPlain(outlive, { args: ['6', 'exit'] });
    assert.equal(plain.exitCode, 7);
    assert.equal(cloud!.stdout + edge!.stdout, plain.stdout);
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.kafusnap')), [], 'nothing to save');
  });
});
