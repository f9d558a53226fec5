// Resolves a guest path relative to a directory descriptor, inside its capability: "." and ".." are
// resolved lexically against real directories, every symlink is expanded here (never by the backend), and
// anything that would leave the directory the descriptor names (an absolute path, ".." above it, a symlink
// whose target is absolute or climbs above it) is ENOTCAPABLE.

import { Errno, WasiError, fail } from './errno.js';
import { joinPath, splitPath, type FsBackend, type FsStat } from './fs-backend.js';

const MAX_SYMLINKS = 40;

export interface Resolved {
  /** Backend path of the result. */
  path: string;
  parts: string[];
  /** lstat of the result, or null when it does not exist (its parent does). */
  stat: FsStat | null;
  /** The guest path ended in "/" (or "/."): the result must be a directory. */
  mustBeDir: boolean;
  /** The result is the base directory itself (path "." or "a/.."). */
  isBase: boolean;
}

function lstatOrNull(backend: FsBackend, path: string): FsStat | null {
  try {
    return backend.lstat(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * @param base  backend path components of the directory descriptor (its own capability root)
 * @param follow follow a symlink in the final component
 */
export function resolvePath(backend: FsBackend, base: readonly string[], guestPath: string, follow: boolean): Resolved {
  if (guestPath.includes('\0')) fail(Errno.INVAL, 'path contains NUL');
  if (guestPath === '') fail(Errno.NOENT, 'empty path');
  if (guestPath.startsWith('/')) fail(Errno.NOTCAPABLE, `absolute path ${guestPath}`);

  const floor = base.length;
  const stack = [...base];
  // Components still to walk, in order; symlink targets are spliced in front.
  let queue = guestPath.split('/');
  let mustBeDir = guestPath.endsWith('/') || guestPath.endsWith('/.') || guestPath === '.' || guestPath.endsWith('/..') || guestPath === '..';
  let links = 0;
  let stat: FsStat | null = null;
  let statValid = false; // stat describes joinPath(stack)

  while (queue.length > 0) {
    const c = queue.shift()!;
    const last = queue.every((q) => q === '' || q === '.');
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (stack.length <= floor) fail(Errno.NOTCAPABLE, `path ${guestPath} leaves its directory`);
      stack.pop();
      statValid = false;
      continue;
    }
    stack.push(c);
    const here = joinPath(stack);
    const st = lstatOrNull(backend, here);
    if (st === null) {
      if (!last) fail(Errno.NOENT, `${guestPath}: no such file or directory`);
      stat = null;
      statValid = true;
      continue;
    }
    if (st.kind === 'symlink' && (!last || follow || mustBeDir)) {
      if (++links > MAX_SYMLINKS) fail(Errno.LOOP, `${guestPath}: too many symlinks`);
      const target = backend.readlink(here);
      if (target.startsWith('/')) fail(Errno.NOTCAPABLE, `symlink ${here} points to an absolute path`);
      if (target === '') fail(Errno.NOENT, `symlink ${here} is empty`);
      stack.pop();
      const rest = queue;
      queue = target.split('/');
      if (target.endsWith('/')) mustBeDir = true;
      queue.push(...rest);
      statValid = false;
      continue;
    }
    if (!last && st.kind !== 'directory') fail(Errno.NOTDIR, `${guestPath}: not a directory`);
    stat = st;
    statValid = true;
  }
  const path = joinPath(stack);
  if (!statValid) stat = lstatOrNull(backend, path);
  if (mustBeDir && stat !== null && stat.kind !== 'directory') {
    fail(Errno.NOTDIR, `${guestPath}: not a directory`);
  }
  return { path, parts: stack, stat, mustBeDir, isBase: stack.length === floor };
}

export function isNotFound(e: unknown): boolean {
  return e instanceof WasiError ? e.errno === Errno.NOENT : (e as { code?: string })?.code === 'ENOENT';
}

export { splitPath };
