// `--resume` with `preopened_dir: .` (the shipped example's layout: the config's folder is the program's "/"): the
// saved program is not written into that folder (it would become one of the program's files), and resuming removes
// nothing the program did not remove — not the saved file, not a file an operator put there in between.
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildWasm } from '../support/build.js';
import { runCluster } from '../support/cluster.js';
import { freshDir } from '../support/forced.js';
import { runPlain } from '../support/run.js';

let work = '';
let comeback = '';
before(async () => {
  comeback = await buildWasm({ sources: ['test/programs/serve/comeback.c'], args: ['-O1'] });
  work = await freshDir('kafu-resume-files-');
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('preopened_dir: . — the program is saved beside the folder, and --resume deletes no file it never saw', async () => {
  const dir = join(work, 'app');
  await mkdir(dir);
  const o = { nodes: ['cloud', 'edge'], args: ['3'], output: 'first_node' as const, dir, appYaml: ['  preopened_dir: .'] };
  const lost = await runCluster(comeback, {
    ...o,
    flags: ['--peer-timeout', '1'],
    whileRunning: async (c) => {
      await c.printed('cloud', 'cloud: sleeping');
      c.procs.get('edge')!.kill('SIGKILL');
    },
  });
  assert.equal(lost.nodes.cloud!.exitCode, 1);
  const saved = /The program is saved in (\S+\.kafusnap)/.exec(lost.nodes.cloud!.stderr)?.[1];
  assert.ok(saved, lost.nodes.cloud!.stderr);
  assert.equal(dirname(saved), work, 'not inside the folder the program sees');
  // An operator's file, and a copy of the saved program, put into the program's folder before resuming.
  await writeFile(join(dir, 'operator-notes.txt'), 'added between the runs\n');
  await writeFile(join(dir, 'copy.kafusnap'), await readFile(saved));
  const before = (await readdir(dir)).sort();

  const resumed = await runCluster(comeback, { ...o, nodeFlags: { cloud: ['--resume', saved] } });
  assert.equal(resumed.nodes.cloud!.exitCode, 0, resumed.nodes.cloud!.stderr + resumed.nodes.edge!.stderr);
  assert.equal(lost.nodes.cloud!.stdout + resumed.nodes.cloud!.stdout, (await runPlain(comeback, { args: ['3'] })).stdout);
  assert.deepEqual((await readdir(dir)).sort(), before);
  assert.equal(await readFile(join(dir, 'operator-notes.txt'), 'utf8'), 'added between the runs\n');
  await readFile(saved); // still there
});
