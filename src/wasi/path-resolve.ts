// Resolves a guest path relative to a directory descriptor, inside its capability: "." and ".." are
// resolved lexically against real directories, every symlink is expanded here (never by the backend), and
// anything that would leave the directory the descriptor names (an absolute path, ".." above it, a symlink
// whose target is absolute or climbs above it) is ENOTCAPABLE.
//
// It is also the one gate for paths that come from a snapshot or the wire (a descriptor's path, a follow-mount
// entry): restoredPath() holds them to what this resolver itself produces for a guest, so that restoring a
// state can do nothing a guest could not.

import { Errno, WasiError, errnoOf, fail } from './errno.js';
import { joinPath, splitPath, type FsBackend, type FsStat } from './fs-backend.js';
import { StateRefused } from './state-refused.js';

/** Symlinks expanded in one resolution at most (Linux's MAXSYMLINKS), then ELOOP. */
const MAX_SYMLINKS = 40;

/**
 * Linux's limits, so that a program written for POSIX meets none a real system would not impose: a path (the
 * guest's, or a symlink's target) is shorter than PATH_MAX bytes (4096 counts the terminating NUL), one component
 * at most NAME_MAX bytes; beyond, ENAMETOOLONG. With MAX_SYMLINKS, one resolution walks at most
 * (MAX_SYMLINKS + 1) × PATH_MAX bytes, whatever the guest or a snapshot hands us.
 */
export const PATH_MAX = 4096;
export const NAME_MAX = 255;

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

/** UTF-8 bytes of the character at s[i]: 4 for a surrogate pair (two units), 3 for a lone surrogate. */
function utf8Width(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  return c >= 0xd800 && c < 0xdc00 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 4 : 3;
}

/** Whether `s` takes more than `max` bytes in UTF-8; stops counting there. */
export function utf8Over(s: string, max: number): boolean {
  if (s.length > max) return true; // a UTF-16 unit is at least one byte
  if (s.length * 3 <= max) return false; // and at most three (a surrogate pair: four for two)
  let n = 0;
  for (let i = 0; i < s.length && n <= max; i++) {
    const w = utf8Width(s, i);
    n += w;
    if (w === 4) i++;
  }
  return n > max;
}

/** ENAMETOOLONG unless `path` fits PATH_MAX (with its NUL). */
export function checkPathLength(path: string, what: string): void {
  if (utf8Over(path, PATH_MAX - 1)) fail(Errno.NAMETOOLONG, `${what} is longer than ${PATH_MAX - 1} bytes`);
}

/** ENAMETOOLONG unless the component `name` fits NAME_MAX. */
export function checkNameLength(name: string, what: string): void {
  if (utf8Over(name, NAME_MAX)) fail(Errno.NAMETOOLONG, `${what}: a component is longer than ${NAME_MAX} bytes`);
}

/** The path names a directory by its spelling: a trailing "/", "." or "..". */
const namesDirectory = (p: string) =>
  p.endsWith('/') || p.endsWith('/.') || p.endsWith('/..') || p === '.' || p === '..';

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
  checkPathLength(guestPath, 'path');
  if (guestPath.startsWith('/')) fail(Errno.NOTCAPABLE, `absolute path ${guestPath}`);

  const floor = base.length;
  const stack = [...base];
  // Components still to walk, the next one last (so that a symlink's target goes in front in time linear in its
  // length); `ahead` counts those that name something (not "" or "."): a component is the last when none is left.
  const pending: string[] = [];
  let ahead = 0;
  const walkNext = (path: string) => {
    const parts = path.split('/');
    for (let i = parts.length - 1; i >= 0; i--) {
      const c = parts[i]!;
      pending.push(c);
      if (c !== '' && c !== '.') ahead++;
    }
  };
  walkNext(guestPath);
  let mustBeDir = namesDirectory(guestPath);
  let links = 0;
  let stat: FsStat | null = null;
  let statValid = false; // stat describes joinPath(stack)

  while (pending.length > 0) {
    const c = pending.pop()!;
    if (c === '' || c === '.') continue;
    const last = --ahead === 0;
    if (c === '..') {
      if (stack.length <= floor) fail(Errno.NOTCAPABLE, `path ${guestPath} leaves its directory`);
      stack.pop();
      statValid = false;
      continue;
    }
    checkNameLength(c, guestPath);
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
      checkPathLength(target, `the target of symlink ${here}`);
      stack.pop();
      if (last && namesDirectory(target)) mustBeDir = true;
      walkNext(target);
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

/**
 * Why `path` is not a backend path that stays inside its root by its spelling alone — absolute, NUL, or a
 * component that is empty, "." or ".." — or null when it is one ("" is the root itself). The resolver only ever
 * produces such paths; a backend refuses any other (src/node/fs-backend.ts).
 */
export function pathEscape(path: string): string | null {
  return spellingProblem(path, false, true);
}

/**
 * Why `path` could not have come from the resolver for a guest — pathEscape(), or beyond the length limits, or ""
 * (the mount itself) unless `root` allows it — or null. A check of the path's spelling alone, so a snapshot's
 * shape is checked with it before anything touches a disk; restoredPath() then checks it against the disk.
 */
export function canonicalProblem(path: string, root = false): string | null {
  return spellingProblem(path, true, root);
}

/** One pass over the path (it runs for every backend call and every path of a snapshot's manifests). */
function spellingProblem(path: string, limits: boolean, root: boolean): string | null {
  if (path === '') return root ? null : 'is empty: that is the mount itself';
  if (path.charCodeAt(0) === 0x2f) return 'is absolute: it leaves the mount';
  let start = 0;
  let name = 0; // UTF-8 bytes of the current component
  let total = 0;
  for (let i = 0; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : 0x2f;
    if (c === 0x2f) {
      const len = i - start;
      if (len === 0 || (len === 1 && path.charCodeAt(start) === 0x2e)) return 'is not canonical (an empty or "." component)';
      if (len === 2 && path.charCodeAt(start) === 0x2e && path.charCodeAt(start + 1) === 0x2e) return 'leaves the mount';
      total += name + 1;
      if (limits && total - 1 > PATH_MAX - 1) return `is longer than ${PATH_MAX - 1} bytes`;
      start = i + 1;
      name = 0;
    } else if (c === 0) {
      return 'contains NUL';
    } else if (limits) {
      const w = utf8Width(path, i);
      name += w;
      if (w === 4) i++;
      if (name > NAME_MAX) return `has a component longer than ${NAME_MAX} bytes`;
    }
  }
  return null;
}

/**
 * The one gate for a path a snapshot or the wire names inside a mount, before the backend is handed it: it must
 * be canonical (canonicalProblem) and, resolved from the mount's root as a guest path is (a final symlink not
 * followed), land exactly on itself — so no component on the way is a symlink and nothing leaves the mount. ""
 * (the mount itself) only where `root` allows it. Call it right before the operation, since an earlier entry of
 * the same snapshot may have made a component a symlink. Throws StateRefused naming `what` and the path; its
 * errno is ENOENT when a directory on the way does not exist.
 */
export function restoredPath(backend: FsBackend, path: string, what: string, root = false): Resolved {
  const refuse = (why: string, errno: number = Errno.NOTCAPABLE): never => {
    throw new StateRefused(`${what} "${path}" ${why}`, errno);
  };
  if (typeof path !== 'string') return refuse('is not a string', Errno.INVAL);
  const problem = canonicalProblem(path, root);
  if (problem !== null) refuse(problem);
  let r: Resolved;
  try {
    r = resolvePath(backend, [], path === '' ? '.' : path, false);
  } catch (e) {
    const errno = errnoOf(e); // a WasiError of the resolver, or an error of the backend
    if (errno === undefined) throw e;
    const why = errno === Errno.NOTCAPABLE ? 'leaves the mount' : errno === Errno.NOENT ? 'has a missing folder on the way' : 'cannot be resolved';
    return refuse(`${why} (${(e as Error).message})`, errno);
  }
  if (r.path !== path) refuse(`goes through a symlink (it resolves to "${r.path}")`);
  return r;
}

export function isNotFound(e: unknown): boolean {
  return e instanceof WasiError ? e.errno === Errno.NOENT : (e as { code?: string })?.code === 'ENOENT';
}

export { splitPath };
