// `kafu serve --all`: a node process that a signal ends (killed from outside, or its runtime crashing at exit) logs
// nothing itself, so the parent says which node and which signal; the nodes it stops itself are no news.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KAFU_BIN, buildWasm } from '../support/build.js';
import { freePorts } from '../support/cluster.js';

const work = mkdtempSync(join(tmpdir(), 'kafu-serve-all-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('serve --all: a node ended by a signal is named, with the signal', { timeout: 90_000 }, async () => {
  const wasm = await buildWasm({ sources: ['test/programs/serve/linger.c'], args: ['-O1'] });
  const [cloud, edge] = await freePorts(2);
  writeFileSync(
    join(work, 'kafu-config.yaml'),
    `name: all\napp:\n  path: ${wasm}\n  args: ['60']\nnodes:\n  cloud: { address: 127.0.0.1, port: ${cloud} }\n  edge: { address: 127.0.0.1, port: ${edge} }\n`,
  );
  const all = spawn(process.execPath, [KAFU_BIN, 'serve', '--all', '--peer-timeout', '5', 'kafu-config.yaml'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  all.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => all.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the program never waited on edge:\n${stderr}`)), 60_000);
    all.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (stdout.includes('edge: waiting')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const children = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(all.pid)], { encoding: 'utf8' }).stdout;
  const edgePid = Number(/^\s*(\d+) .*--node-id edge/m.exec(children)?.[1]);
  assert.ok(edgePid > 0, children);
  process.kill(edgePid, 'SIGKILL');
  const code = await exited;
  assert.notEqual(code, 0, stderr);
  assert.match(stderr, /^kafu: node edge ended by SIGKILL$/m);
  assert.doesNotMatch(stderr, /kafu: node cloud ended by/, 'cloud, stopped by serve --all itself, is no news');
});
