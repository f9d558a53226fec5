// A node that lost follow-mount files the program left there (restarted on an empty folder, a browser tab replaced)
// refuses the hop that counts on them, and the sender sends the program again with every file
// (test/programs/wasi/lost_files.c empties edge's folder behind its own back through a node-local mount). Output
// and folders as without migration, under `kafu singlenode` and between two `kafu serve` processes over mutual TLS.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NodeFsBackend } from '../../src/node/fs-backend.js';
import { runWasiModule } from '../../src/run/run.js';
import { buildWasm } from '../support/build.js';
import { runCluster } from '../support/cluster.js';
import { freshDir, serveModule, snapshotTree, writeFiles } from '../support/forced.js';
import { PROGRAM_NAME } from '../support/run.js';

const SOURCE = 'test/programs/wasi/lost_files.c';
const MOUNTS = [
  { guest: '/data', host: './data/${node}' },
  { guest: '/edge-folder', host: './data/edge', mode: 'node-local' as const },
];
const FILES = { 'note.txt': 'kept', 'twin.txt': 'kept', 'dir/inner.txt': 'inner' };

let work = '';
let wasm = '';
let plain: { stdout: string; files: Record<string, string> };
before(async () => {
  wasm = await buildWasm({ sources: [SOURCE], args: ['-O1'] });
  work = await freshDir('kafu-lost-files-');
  // Without migration: /edge-folder is another folder holding the same files, so that emptying it says the same.
  const [data, other] = [join(work, 'plain-data'), join(work, 'plain-other')];
  await writeFiles(other, FILES);
  await mkdir(data);
  let stdout = '';
  const code = await runWasiModule(new Uint8Array(await readFile(wasm)), wasm, {
    args: [PROGRAM_NAME],
    env: [],
    preopens: [
      { guestPath: '/data', backend: new NodeFsBackend(data) },
      { guestPath: '/edge-folder', backend: new NodeFsBackend(other) },
    ],
    stdout: (b) => (stdout += new TextDecoder().decode(b)),
    stderr: () => {},
  });
  assert.equal(code, 0);
  assert.match(stdout, /edge, second visit: \/data\/note\.txt: \[kept\]/);
  assert.match(stdout, /emptying edge's folder: 0 0 0 0/);
  plain = { stdout, files: await snapshotTree(data) };
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('kafu singlenode: edge lost the files; the program is sent again with them, output and files as without migration', async () => {
  const dir = join(work, 'singlenode');
  await mkdir(dir);
  const r = await serveModule(wasm, dir, { nodes: ['cloud', 'edge'], mounts: MOUNTS });
  assert.equal(r.exitCode, 0, r.stderr + r.logs.join('\n'));
  assert.equal(r.stdout, plain.stdout);
  assert.ok(
    r.logs.some((l) => /node edge could not resume the program \(follow mount \/data: \d+ of the program's entries are not in node edge's folder .*\); sending it again with all its files/.test(l)),
    r.logs.join('\n'),
  );
  assert.deepEqual(await snapshotTree(join(dir, 'data', 'cloud')), plain.files);
  assert.deepEqual(await snapshotTree(join(dir, 'data', 'edge')), plain.files);
  const [note, twin] = await Promise.all(['note.txt', 'twin.txt'].map((f) => stat(join(dir, 'data', 'edge', f))));
  assert.equal(note!.ino, twin!.ino, 'the hard link is one file again on edge');
});

test('kafu serve (two processes, mutual TLS): the hop is refused for the lost files and sent whole with them', { timeout: 120_000 }, async () => {
  const dir = join(work, 'serve');
  await mkdir(dir);
  const r = await runCluster(wasm, {
    nodes: ['cloud', 'edge'],
    output: 'first_node',
    dir,
    appYaml: ['  mounts:', ...MOUNTS.map((m) => `    - { guest: ${m.guest}, host: "${m.host}"${m.mode ? `, mode: ${m.mode}` : ''} }`)],
    flags: ['--log-level', 'debug'],
  });
  assert.equal(r.nodes.cloud!.exitCode, 0, r.nodes.cloud!.stderr + r.nodes.edge!.stderr);
  assert.equal(r.nodes.cloud!.stdout, plain.stdout);
  assert.match(r.nodes.cloud!.stderr, /\d+ of the program's entries are not in node edge's folder/);
  assert.deepEqual(await snapshotTree(join(dir, 'data', 'edge')), plain.files);
  assert.deepEqual(await snapshotTree(join(dir, 'data', 'cloud')), plain.files);
});
