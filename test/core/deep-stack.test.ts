// Recursion as deep as an 8 MiB C stack allows (test/programs/core/deep_nodes.c: 20 000 frames on the first node and
// 20 000 more on edge) runs under `kafu run`, `kafu singlenode serve` and `kafu serve`: each runs the program on a
// thread whose engine stack fits it (src/node/engine-stack.ts; Node's own main thread overflows at about 10 000). When
// the engine stack is too small all the same (KAFU_STACK_MB=1 here), the program traps, exit 134, with one line that
// names what to raise, not a Node stack trace.
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildWasm, KAFU_BIN } from '../support/build.js';
import { runCluster, spawnKafu } from '../support/cluster.js';

const T = { timeout: 180_000 };
const DEPTH = '20000';
const EXPECTED = `edge: ${DEPTH} frames deep, -1117751017\ncloud: back from ${DEPTH} frames deep, -1117751001\n`;

describe('deep recursion and the engine stack', { concurrency: 1 }, () => {
  let wasm = '';
  let dir = '';
  let config = '';
  before(async () => {
    wasm = await buildWasm({ sources: ['test/programs/core/deep_nodes.c'], args: ['-O0', '-Wl,-z,stack-size=8388608'] });
    dir = await mkdtemp(join(tmpdir(), 'kafu-deep-'));
    await symlink(wasm, join(dir, 'main.wasm'));
    config = join(dir, 'kafu-config.yaml');
    await writeFile(config, `name: deep\napp:\n  path: ./main.wasm\n  args: ["${DEPTH}"]\nnodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n  edge: { address: 127.0.0.1, port: 50052 }\n`);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const noNodeTrace = (stderr: string) => {
    assert.doesNotMatch(stderr, /RangeError|Maximum call stack|file:\/\/|node:internal/, stderr);
  };

  test('kafu run and kafu singlenode serve: 20 000 + 20 000 frames', T, async () => {
    const run = await spawnKafu(['run', wasm, DEPTH], dir).done;
    assert.equal(run.stdout, EXPECTED, run.stderr);
    assert.equal(run.exitCode, 0);
    const single = await spawnKafu(['singlenode', 'serve', config], dir).done;
    assert.equal(single.stdout, EXPECTED, single.stderr);
    assert.equal(single.exitCode, 0);
  });

  test('kafu serve: 20 000 frames on each node, across a migration and back', T, async () => {
    const r = await runCluster(wasm, { nodes: ['cloud', 'edge'], args: [DEPTH], output: 'first_node', timeoutMs: 120_000 });
    assert.equal(r.nodes.cloud!.stdout, EXPECTED, r.nodes.cloud!.stderr);
    assert.equal(r.nodes.cloud!.exitCode, 0);
  });

  test('an engine stack too small (KAFU_STACK_MB=1): a trap, exit 134, that names KAFU_STACK_MB', T, async () => {
    const env = { ...process.env, KAFU_STACK_MB: '1' };
    const launch = { command: [process.execPath, KAFU_BIN], env };
    const run = await spawnKafu(['run', wasm, DEPTH], dir, undefined, launch).done;
    assert.equal(run.exitCode, 134, run.stderr);
    assert.match(run.stderr, /^kafu run: the program trapped: call stack exhausted: .*raise it with KAFU_STACK_MB=<MiB>/);
    noNodeTrace(run.stderr);
    const single = await spawnKafu(['singlenode', 'serve', config], dir, undefined, launch).done;
    assert.equal(single.exitCode, 134, single.stderr);
    assert.match(single.stderr, /ERROR Program trapped on cloud: call stack exhausted: .*KAFU_STACK_MB/);
    noNodeTrace(single.stderr);
    process.env.KAFU_STACK_MB = '1'; // the cluster's processes take this process's environment
    try {
      const r = await runCluster(wasm, { nodes: ['cloud', 'edge'], args: [DEPTH], timeoutMs: 120_000 });
      assert.equal(r.nodes.cloud!.exitCode, 134, r.nodes.cloud!.stderr);
      assert.ok(r.logs.some((l) => /^Program trapped on cloud: call stack exhausted: .*KAFU_STACK_MB/.test(l)), r.logs.join('\n'));
      noNodeTrace(r.nodes.cloud!.stderr + r.nodes.edge!.stderr);
    } finally {
      delete process.env.KAFU_STACK_MB;
    }
  });
});
