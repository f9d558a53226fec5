// A temporary folder with mounts inside and sentinels around them, for tests that hand the restore path hostile
// snapshots: <root>/x/<name> are the mounts' folders (one per node, or just "mount"); <root>/victim (a folder,
// "../../victim" from a mount), <root>/host-secret.txt and <root>/outside (what planted absolute symlinks point
// to) must never change.
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshotTree, writeFiles } from './forced.js';

export const SECRET = 'HOST SECRET: must never be read by a guest';

export interface Sandbox {
  root: string;
  /** The first mount's host folder. */
  mount: string;
  outside: string;
  /** Everything outside the mount, with each entry's mtime, inode and link count (atime: reading changes it). */
  outsideState(): Promise<Record<string, string>>;
  /** Asserts nothing outside the mount changed since the sandbox was made. */
  assertOutsideUntouched(why?: string): Promise<void>;
  remove(): Promise<void>;
}

/** Each mount's initial files; `l_out -> <root>/outside` and `l_up -> ../..` (the root) are planted too. */
export const MOUNT_FILES = { 'keep.txt': 'keep', 'data.txt': 'inside data\n', 'sub/s.txt': 's' };

export async function makeSandbox(prefix = 'kafu-sandbox-', mounts = ['mount']): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const outside = join(root, 'outside');
  await writeFiles(root, { 'victim/v.txt': 'victim', 'victim/deep/w.txt': 'w', 'host-secret.txt': SECRET, 'outside/o.txt': 'o' });
  await mkdir(join(outside, 'b'));
  for (const name of mounts) {
    const mount = join(root, 'x', name);
    await mkdir(mount, { recursive: true });
    await writeFiles(mount, MOUNT_FILES);
    await symlink(outside, join(mount, 'l_out'));
    await symlink('../..', join(mount, 'l_up'));
  }
  // The mounts' folders are the program's; everything else is outside.
  const mine = (path: string) => mounts.some((name) => path.startsWith(`x/${name}/`));
  const outsideState = async () => {
    const tree = await snapshotTree(root);
    const out: Record<string, string> = {};
    for (const [path, content] of Object.entries(tree)) {
      if (mine(path)) continue;
      const st = await lstat(join(root, path), { bigint: true });
      out[path] = `${content} ino=${st.ino} nlink=${st.nlink} mtime=${st.mtimeNs}`;
    }
    return out;
  };
  const before = await outsideState();
  return {
    root,
    mount: join(root, 'x', mounts[0]!),
    outside,
    outsideState,
    async assertOutsideUntouched(why = '') {
      assert.deepEqual(await outsideState(), before, `nothing outside the mount changes ${why}`);
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
