// wasi-nn under cluster.checkpoint: hops. A node keeps the models it received in memory only, so a restarted edge
// has none; the checkpoint the first node hands it was taken when edge held the model (that hop carried none). It
// must still resume: a whole snapshot carries every model the program's graphs use. Output as in a run without
// the kill.
import assert from 'node:assert/strict';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCluster, type RunningCluster } from '../support/cluster.js';
import { freshDir } from '../support/forced.js';
import { SILERO_MODEL } from '../support/silero.js';
import { buildNn } from './harness.js';

let work = '';
let wasm = '';
before(async () => {
  wasm = await buildNn('nn_relay.c');
  work = await freshDir('kafu-nn-checkpoint-');
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const run = async (name: string, whileRunning?: (c: RunningCluster) => Promise<void>) => {
  const dir = join(work, name);
  await mkdir(dir);
  await copyFile(SILERO_MODEL, join(dir, 'vad.onnx'));
  return runCluster(wasm, {
    nodes: ['cloud', 'edge'],
    args: ['3', '800'],
    output: 'first_node',
    dir,
    appYaml: ['  preopened_dir: .'],
    flags: ['--peer-timeout', '30'],
    clusterYaml: ['  heartbeat: { interval_ms: 200 }', '  checkpoint: hops'],
    whileRunning,
    timeoutMs: 120_000,
  });
};

test('a restarted edge resumes the checkpoint of a hop that carried no model: the model comes with it', { timeout: 180_000 }, async () => {
  const reference = await run('plain');
  assert.equal(reference.nodes.cloud!.exitCode, 0, reference.nodes.cloud!.stderr);
  assert.match(reference.nodes.cloud!.stdout, /^round 0 on cloud\nround 0 on edge: 0\.\d{5}\n.*done\n$/s);
  assert.doesNotMatch(reference.nodes.cloud!.stdout, /failed/);

  const r = await run('restart', async (c) => {
    // Round 1 is on edge, which has held the model since round 0: this hop's checkpoint carries no model.
    await c.printed('cloud', 'round 1 on edge');
    await new Promise((res) => setTimeout(res, 300));
    c.procs.get('edge')!.kill('SIGKILL');
    await c.printed('cloud', 'continuing from the checkpoint');
    await c.restart('edge');
  });
  assert.equal(r.nodes.cloud!.exitCode, 0, r.nodes.cloud!.stderr);
  assert.equal(r.nodes.edge!.exitCode, 0, r.nodes.edge!.stderr);
  assert.equal(r.nodes.cloud!.stdout, reference.nodes.cloud!.stdout);
  assert.match(r.nodes.cloud!.stderr, /Program continues on edge from the checkpoint/);
});
