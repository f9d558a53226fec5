// Sandbox escapes (test/programs/wasi/escape.c): "..", absolute paths, symlinks pointing out — planted on the host
// and made by the guest — and hard links out and in. Under `kafu run` as a real process and under forced
// migration after every WASI call, every attempt fails with the expected errno and nothing outside the mount
// changes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '../support/build.js';
import { buildForced, freshDir, observable, runForced, snapshotTree, writeFiles } from '../support/forced.js';

const SOURCE = 'test/programs/wasi/escape.c';
let root = '';
let outside = '';
let outsideBefore: Record<string, string> = {};

before(async () => {
  root = await freshDir('kafu-escape-');
  outside = join(root, 'outside');
  await writeFiles(outside, { 'secret.txt': 'TOP SECRET', 'sub/keep.txt': 'keep' });
  outsideBefore = await snapshotTree(outside);
});
after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const INITIAL = { 'inside.txt': 'inside', 'dir/x.txt': 'x' };

/** The links the host plants in the mount before the program starts. */
async function plant(dir: string): Promise<void> {
  await symlink(join(outside, 'secret.txt'), join(dir, 'abs_link'));
  await symlink(outside, join(dir, 'abs_dir_link'));
  await symlink('../../../../../../../../../../etc/hostname', join(dir, 'rel_link'));
  await symlink('../../outside', join(dir, 'dir/up_link'));
  await symlink('../inside.txt', join(dir, 'dir/ok_link'));
  await symlink('loop_b', join(dir, 'loop_a'));
  await symlink('loop_a', join(dir, 'loop_b'));
}

const expected = () => readFile(join(repoRoot, 'test/programs/wasi/escape.expected'), 'utf8');

/** What the mount holds afterwards: the initial files, the planted links and the links the guest may make. */
function expectedTree(): Record<string, string> {
  return {
    abs_dir_link: `-> ${outside}`,
    abs_link: `-> ${outside}/secret.txt`,
    'dir/': '',
    'dir/g_up': '-> ../..',
    'dir/ok_link': '-> ../inside.txt',
    'dir/up_link': '-> ../../outside',
    'dir/x.txt': 'x',
    g_chain: '-> dir/g_up',
    g_ok: '-> dir/../inside.txt',
    g_rel: '-> ../../../../../../../../etc/passwd',
    hl_nofollow: `-> ${outside}/secret.txt`,
    'inside.txt': 'inside',
    loop_a: '-> loop_b',
    loop_b: '-> loop_a',
    rel_link: '-> ../../../../../../../../../../etc/hostname',
  };
}

describe('sandbox escapes', { concurrency: 1 }, () => {
  test('under `kafu run` (a real process): every escape fails, nothing outside changes', { timeout: 120_000 }, async () => {
    const { plain } = await buildForced([SOURCE]);
    const mount = join(root, 'cli-mount');
    await mkdir(mount);
    await writeFiles(mount, INITIAL);
    await plant(mount);
    const p = spawnSync(process.execPath, [join(repoRoot, 'bin/kafu.js'), 'run', '--dir', `${mount}::/`, plain, outside], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(p.stderr, '');
    assert.equal(p.status, 0);
    assert.equal(p.stdout, await expected());
    assert.deepEqual(await snapshotTree(mount), expectedTree());
    assert.deepEqual(await snapshotTree(outside), outsideBefore, 'the folder outside the sandbox is untouched');
  });

  for (const every of [1, 4]) {
    test(`migrating after every ${every} WASI call(s): same refusals, same files, nothing outside changes`, { timeout: 120_000 }, async () => {
      const r = await runForced([SOURCE], { every, args: [outside], files: INITIAL, prepare: plant });
      assert.equal(r.plain.stdout, await expected());
      assert.deepEqual(observable(r.migrating), observable(r.plain));
      assert.ok(r.migrating.migrations >= Math.floor(140 / every), `${r.migrating.migrations} migrations`);
      assert.deepEqual(r.migrating.files, expectedTree());
      assert.deepEqual(await snapshotTree(outside), outsideBefore, 'the folder outside the sandbox is untouched');
    });
  }
});
