// Listeners given wrongly: app.listen mistakes named with their line, --tcplisten's format, a port already in use
// (kafu run and kafu serve say which listener and the fix, exit 1, no stack trace), and a snapshot's socket
// descriptor held to its shape.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { UserError } from '../../src/core/errors.js';
import { parseConfigText } from '../../src/node/config-file.js';
import { parseWasiState, StateRefused, WasiHost } from '../../src/wasi/index.js';
import { freePorts, runCluster, spawnKafu } from '../support/cluster.js';
import { socketProgram } from '../support/sockets.js';

const FILE = '/srv/app/kafu-config.yaml';
const NODES = 'nodes:\n  cloud: { address: 127.0.0.1, port: 1 }\n  edge: { address: 127.0.0.1, port: 2 }\n';

function configError(listen: string): string {
  try {
    parseConfigText(`name: x\napp:\n  path: ./m.wasm\n  listen:\n${listen}${NODES}`, FILE);
  } catch (e) {
    assert.ok(e instanceof UserError);
    return e.message;
  }
  return assert.fail('accepted');
}

test('app.listen: homes default to the first node; mistakes are named with their line', () => {
  const ok = parseConfigText(`name: x\napp:\n  path: ./m.wasm\n  listen:\n    - { address: 127.0.0.1, port: 8080 }\n    - { node: edge, address: 0.0.0.0, port: 9090 }\n${NODES}`, FILE);
  assert.deepEqual(ok.config.app.listen, [
    { node: 'cloud', address: '127.0.0.1', port: 8080 },
    { node: 'edge', address: '0.0.0.0', port: 9090 },
  ]);
  assert.match(configError('    - { node: fog, address: 127.0.0.1, port: 1 }\n'), /kafu-config\.yaml:5: app\.listen\.0\.node: fog is not a node of this config/);
  assert.match(configError('    - { address: 127.0.0.1, port: 70000 }\n'), /app\.listen\.0\.port: /);
  assert.match(configError('    - { port: 80 }\n'), /app\.listen\.0\.address: address is required/);
  assert.match(configError('    - { address: a, port: 1, colour: red }\n'), /app\.listen\.0\.colour: unknown key\(s\): colour/);
  assert.match(
    configError('    - { address: a, port: 1 }\n    - { node: cloud, address: a, port: 1 }\n'),
    /app\.listen\.1: a:1 is listed twice for node cloud/,
  );
});

test('kafu run --tcplisten: a bad value and a port in use are one-line errors', async () => {
  const wasm = (await socketProgram('line_server')).plain;
  const bad = await spawnKafu(['run', '--tcplisten', '8080', wasm], process.cwd()).done;
  assert.equal(bad.exitCode, 1);
  assert.match(bad.stderr, /--tcplisten.*expected HOST:PORT/);
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as { port: number }).port;
  try {
    const r = await spawnKafu(['run', '--tcplisten', `127.0.0.1:${port}`, wasm], process.cwd()).done;
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, new RegExp(`--tcplisten 127\\.0\\.0\\.1:${port}: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    busy.close();
  }
});

test('kafu serve: a listener whose port is in use stops its node with the entry named', async () => {
  const wasm = (await socketProgram('line_server')).migrating;
  const busy = createServer();
  const [port] = await freePorts(1);
  await new Promise<void>((r) => busy.listen(port, '127.0.0.1', r));
  try {
    const run = await runCluster(wasm, {
      nodes: ['cloud', 'edge'],
      args: ['1'],
      appYaml: ['  listen:', `    - { node: edge, address: 127.0.0.1, port: ${port} }`],
      flags: ['--peer-timeout', '3'],
      timeoutMs: 30_000,
    });
    assert.equal(run.nodes.edge!.exitCode, 1);
    assert.match(run.nodes.edge!.stderr, new RegExp(`app\\.listen\\[0\\] \\(node edge\\): cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
    assert.notEqual(run.nodes.cloud!.exitCode, 0);
  } finally {
    busy.close();
  }
});

test('a snapshot\'s socket descriptor: shape checked, and refused by a host without sockets', () => {
  const state = (desc: object) => ({
    version: 1, args: [], env: [], preopens: [], monotonicNs: '0',
    fds: [{ fd: 3, desc: { kind: 'socket', role: 'stream', home: 'cloud', id: 'ab'.repeat(16), seq: 3, nonblocking: false, lost: false, ...desc } }],
  });
  assert.doesNotThrow(() => parseWasiState(state({}), []));
  assert.throws(() => parseWasiState(state({ id: '../../etc' }), []), (e) => e instanceof StateRefused && /fds\[0\]\.desc\.id: not a socket handle/.test(e.message));
  assert.throws(() => parseWasiState(state({ role: 'raw' }), []), StateRefused);
  assert.throws(() => parseWasiState(state({ home: '' }), []), StateRefused);
  const host = new WasiHost({ args: [], env: [], preopens: [], stdout: () => {}, stderr: () => {} });
  assert.throws(() => host.importState(state({})), (e) => e instanceof StateRefused && /fd 3: a socket, and this host has none/.test(e.message));
});
