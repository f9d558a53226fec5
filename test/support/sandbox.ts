// A temporary folder with a mount inside and sentinels around it, for tests that hand the restore path hostile
// snapshots: <root>/x/mount is the mount; <root>/victim (a folder, "../../victim" from the mount),
// <root>/host-secret.txt and <root>/outside (what planted absolute symlinks point to) must never change.
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshotTree, writeFiles } from './forced.js';

export const SECRET = 'HOST SECRET: must never be read by a guest';

export interface Sandbox {
  root: string;
  /** The mount's host folder. */
  mount: string;
  outside: string;
  /** Everything outside the mount, with each entry's mtime, inode and link count (atime: reading changes it). */
  outsideState(): Promise<Record<string, string>>;
  /** Asserts nothing outside the mount changed since the sandbox was made. */
  assertOutsideUntouched(why?: string): Promise<void>;
  remove(): Promise<void>;
}

/** The mount's initial files; `l_out -> <root>/outside` and `l_up -> ../..` are planted too. */
export const MOUNT_FILES = { 'keep.txt': 'keep', 'data.txt': 'inside data\n', 'sub/s.txt': 's' };

export async function makeSandbox(prefix = 'kafu-sandbox-'): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const mount = join(root, 'x', 'mount');
  const outside = join(root, 'outside');
  await writeFiles(root, { 'victim/v.txt': 'victim', 'victim/deep/w.txt': 'w', 'host-secret.txt': SECRET, 'outside/o.txt': 'o' });
  await mkdir(join(outside, 'b'));
  await mkdir(mount, { recursive: true });
  await writeFiles(mount, MOUNT_FILES);
  await symlink(outside, join(mount, 'l_out'));
  await symlink('../..', join(mount, 'l_up'));
  const outsideState = async () => {
    const tree = await snapshotTree(root);
    const out: Record<string, string> = {};
    for (const [path, content] of Object.entries(tree)) {
      if (path.startsWith('x/mount/')) continue;
      const st = await lstat(join(root, path), { bigint: true });
      out[path] = `${content} ino=${st.ino} nlink=${st.nlink} mtime=${st.mtimeNs}`;
    }
    return out;
  };
  const before = await outsideState();
  return {
    root,
    mount,
    outside,
    outsideState,
    async assertOutsideUntouched(why = '') {
      assert.deepEqual(await outsideState(), before, `nothing outside the mount changes ${why}`);
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
