// A hop to a browser node that no tab ever opens: it waits `browser.tab_wait_s`, then fails clearly (naming the URL
// to open), and the program is saved for --resume like any hand-off that cannot be delivered. No browser needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildWasm } from '../support/build.js';
import { freePorts, runCluster } from '../support/cluster.js';

test('no tab connects to the browser node: the hop fails after tab_wait_s, naming the URL, and the program is saved', async () => {
  const wasm = await buildWasm({ sources: ['test/programs/core/recursive.c'], args: ['-O1'] });
  const [port] = await freePorts(1);
  const run = await runCluster(wasm, { nodes: ['cloud', 'edge'], nodeYaml: { edge: [`    browser: { port: ${port}, tab_wait_s: 1 }`] } });
  const cloud = run.nodes.cloud!;
  assert.equal(cloud.exitCode, 1, cloud.stderr);
  assert.equal(run.nodes.edge!.exitCode, 1, run.nodes.edge!.stderr);
  assert.match(cloud.stderr, new RegExp(`no browser tab is connected to node edge \\(waited 1 s, nodes\\.edge\\.browser\\.tab_wait_s\\): open http://127\\.0\\.0\\.1:${port}/\\?token=[0-9a-f]{32}`));
  assert.match(cloud.stderr, /The program is saved in \S+\.kafusnap/);
  assert.equal(cloud.stdout, '');
});
