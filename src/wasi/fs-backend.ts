// The filesystem a preopen gives access to. Paths are relative to the backend's root, "/"-separated,
// already normalised and symlink-free in every component but possibly the last ("" is the root): the
// library OS resolves "..", "." and symlinks itself (path-resolve.ts), so sandboxing never depends on a
// backend. Every method is synchronous (wasm imports are) and throws an Error whose `code` is a POSIX
// error name ("ENOENT", "ENOTEMPTY", ...) on failure.

export type FsKind = 'file' | 'directory' | 'symlink' | 'chardev' | 'blockdev' | 'socket' | 'fifo' | 'unknown';

export interface FsStat {
  kind: FsKind;
  dev: bigint;
  ino: bigint;
  nlink: bigint;
  size: bigint;
  atimNs: bigint;
  mtimNs: bigint;
  ctimNs: bigint;
}

export interface FsOpenFlags {
  read: boolean;
  write: boolean;
  create: boolean;
  exclusive: boolean;
  truncate: boolean;
}

/** An open regular file, as the backend numbers it. */
export type FsHandle = number;

export interface FsBackend {
  /**
   * How far a file time this host stores may be from the time set, in ns (it may keep less than the nanosecond;
   * exact-times.ts); absent: exact.
   */
  readonly timeSlackNs?: number;
  /** Stat without following a final symlink. */
  lstat(path: string): FsStat;
  /** Open a regular file (never follows a final symlink: ELOOP if it is one). */
  open(path: string, flags: FsOpenFlags): FsHandle;
  close(h: FsHandle): void;
  /** Read up to buf.length bytes at position; returns the count (0 at end of file). */
  pread(h: FsHandle, buf: Uint8Array, position: bigint): number;
  /** Write data at position; returns the count written. */
  pwrite(h: FsHandle, data: Uint8Array, position: bigint): number;
  fstat(h: FsHandle): FsStat;
  ftruncate(h: FsHandle, size: bigint): void;
  fsync(h: FsHandle): void;
  fdatasync(h: FsHandle): void;
  /** Set times of an open file; null keeps the current value. */
  futimes(h: FsHandle, atimNs: bigint | null, mtimNs: bigint | null): void;
  /** Set times at path (follow: whether a final symlink is followed); null keeps the current value. */
  utimes(path: string, atimNs: bigint | null, mtimNs: bigint | null, follow: boolean): void;
  /** Entry names of a directory, without "." and "..", in any order. */
  readdir(path: string): string[];
  mkdir(path: string): void;
  rmdir(path: string): void;
  unlink(path: string): void;
  /** POSIX rename(2) semantics, including replacing an existing file or empty directory. */
  rename(from: string, to: string): void;
  symlink(target: string, path: string): void;
  readlink(path: string): string;
  /** Hard link: create newPath naming the same file as existingPath. */
  link(existingPath: string, newPath: string): void;
}

/** An Error with a POSIX code, for backends that are not node:fs. */
export class FsError extends Error {
  constructor(readonly code: string, message?: string) {
    super(message ?? code);
    this.name = 'FsError';
  }
}

export function joinPath(parts: readonly string[]): string {
  return parts.join('/');
}

export function splitPath(path: string): string[] {
  return path === '' ? [] : path.split('/');
}
