// The host filesystem as a WASI preopen: an FsBackend over a host folder, with node:fs sync calls. Paths
// reaching here are already resolved and sandboxed by the library OS (src/wasi/path-resolve.ts); files are
// opened with O_NOFOLLOW so a symlink swapped in afterwards is refused rather than followed.
//
// File times are set on the host to the microsecond, not the nanosecond: node:fs can only pass times as a double
// of seconds, and libuv (uv__fs_to_timespec) truncates them to whole microseconds before calling
// futimens/utimensat; we hand it the nearest microsecond (1300000000.987654321 is stored as 1300000000.987654000).
// The library OS keeps the nanoseconds the program set and reports them back while the host holds about that time
// (src/wasi/exact-times.ts). A time the program leaves alone (UTIME_OMIT) is rewritten from a stat and so is truncated to the microsecond too (libuv has no
// way to omit one of the two). See libuvSeconds() for how the microsecond is made exact; it is for times within
// ±2^32 s of the epoch (years 1834 to 2106), beyond which a double cannot hold the microsecond.
//
// The same node:fs calls on the other engines (hostTime()): Bun does not truncate, it keeps the double's value to
// the nanosecond and reads times through a double as well (within 0.25 µs today); Deno truncates to the
// millisecond and reads a negative number or numeric string as "now" (hostTime() has the details). Nearest, not
// truncated, on Node and Deno: a time read on Bun (a little off) and set again on another engine, as a follow
// mount's files are at each migration, then lands where it was instead of creeping down. timeSlackNs says how far
// the stored time may be from the one set (a millisecond), so that the library OS still reports the program's own
// time to the nanosecond (src/wasi/exact-times.ts) on every engine, also after moving between them.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { FsError, type FsBackend, type FsHandle, type FsKind, type FsOpenFlags, type FsStat } from '../wasi/fs-backend.js';
import { pathEscape } from '../wasi/path-resolve.js';
import { ENGINE } from './engine.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC } = fs.constants;
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
/** The largest file position node:fs writes and truncates at exactly (it takes them as numbers). */
const MAX_POSITION = BigInt(Number.MAX_SAFE_INTEGER);

function kindOf(s: fs.BigIntStats): FsKind {
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'directory';
  if (s.isSymbolicLink()) return 'symlink';
  if (s.isCharacterDevice()) return 'chardev';
  if (s.isBlockDevice()) return 'blockdev';
  if (s.isSocket()) return 'socket';
  if (s.isFIFO()) return 'fifo';
  return 'unknown';
}

function toStat(s: fs.BigIntStats): FsStat {
  return {
    kind: kindOf(s), dev: s.dev, ino: s.ino, nlink: s.nlink, size: s.size,
    atimNs: s.atimeNs, mtimNs: s.mtimeNs, ctimNs: s.ctimeNs,
  };
}

/**
 * A time in ns as the seconds string node:fs hands to libuv so that it lands on the microsecond nearest ns. libuv
 * takes a double t and sets tv_sec = (long)t, tv_nsec = (long)((t - tv_sec) * 1e9) truncated toward zero to a
 * multiple of 1000 (then moves a negative tv_nsec up a second): both truncations go toward zero. So we aim at
 * the middle of the microsecond on the side away from zero — us*1000 ± 500 ns — where the rounding
 * of the decimal to a double (under ±477 ns below 2^32 s) cannot push it into a neighbouring microsecond. A
 * string because node:fs turns a negative number into "now" but passes a numeric string through unchanged.
 */
export function libuvSeconds(ns: bigint): string {
  const us = floorDiv(ns + 500n, 1000n); // nearest
  const aim = us >= 0n ? us * 1000n + 500n : us * 1000n - 500n;
  const abs = aim < 0n ? -aim : aim;
  return `${aim < 0n ? '-' : ''}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')}`;
}

const floorDiv = (a: bigint, b: bigint): bigint => (a >= 0n ? a / b : -((-a + b - 1n) / b));

/** A time in ns as this engine's node:fs takes it best (see the top of this file). */
export function hostTime(ns: bigint): string | Date {
  if (ENGINE === 'deno') {
    // Deno takes seconds and truncates them to the millisecond: aim at the middle of the nearest one (its futimes
    // turns a Date into seconds and back, which can land a millisecond early). Before 1970 only a Date works.
    const ms = Number(floorDiv(ns + 500_000n, 1_000_000n));
    return ms >= 0 ? ((ms + 0.5) / 1000).toString() : new Date(ms);
  }
  if (ENGINE === 'bun') {
    const abs = ns < 0n ? -ns : ns;
    return `${ns < 0n ? '-' : ''}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')}`;
  }
  return libuvSeconds(ns);
}

/**
 * How far a stored time may be from the one the program set: a millisecond, Deno's precision, on every engine, as a
 * folder's times may have been set by a node on another engine (a shared folder, or a follow mount's files carried
 * by a migration); and Bun reads times through a double too (within 1 µs today).
 */
const TIME_SLACK_NS = 999_999;

export class NodeFsBackend implements FsBackend {
  readonly root: string;
  readonly timeSlackNs = TIME_SLACK_NS;

  constructor(root: string) {
    this.root = nodePath.resolve(root);
  }

  /**
   * The host path of `path`. The library OS hands over only paths its resolver made (src/wasi/path-resolve.ts); one
   * that could leave the root by its spelling is refused here too, so no bug elsewhere can reach outside it.
   */
  private full(path: string): string {
    if (path === '') return this.root;
    const escape = pathEscape(path);
    if (escape !== null) throw new FsError('ENOTCAPABLE', `path ${JSON.stringify(path)} ${escape}`);
    return nodePath.join(this.root, path);
  }

  lstat(path: string): FsStat {
    return toStat(fs.lstatSync(this.full(path), { bigint: true }));
  }

  open(path: string, f: FsOpenFlags): FsHandle {
    const writable = f.write || f.truncate;
    let flags = f.read && writable ? O_RDWR : writable ? O_WRONLY : O_RDONLY;
    if (f.create) flags |= O_CREAT;
    if (f.create && f.exclusive) flags |= O_EXCL;
    if (f.truncate) flags |= O_TRUNC;
    flags |= O_NOFOLLOW;
    return fs.openSync(this.full(path), flags, 0o666);
  }

  close(h: FsHandle): void {
    fs.closeSync(h);
  }

  pread(h: FsHandle, buf: Uint8Array, position: bigint): number {
    return fs.readSync(h, buf, 0, buf.length, position); // a bigint position is exact up to 2^63 - 1
  }

  pwrite(h: FsHandle, data: Uint8Array, position: bigint): number {
    // node:fs takes a write position only as a safe integer (past 2^53 it silently writes at the current
    // position): a file cannot grow that far through this backend, so the write is EFBIG, as on a file system
    // whose largest file is smaller (ext4's is 2^44 bytes).
    if (position + BigInt(data.length) > MAX_POSITION) throw new FsError('EFBIG', `write at ${position}: past 2^53 bytes`);
    return fs.writeSync(h, data, 0, data.length, Number(position));
  }

  fstat(h: FsHandle): FsStat {
    return toStat(fs.fstatSync(h, { bigint: true }));
  }

  ftruncate(h: FsHandle, size: bigint): void {
    if (size > MAX_POSITION) throw new FsError('EFBIG', `size ${size}: past 2^53 bytes`); // as pwrite
    fs.ftruncateSync(h, Number(size));
  }

  fsync(h: FsHandle): void {
    fs.fsyncSync(h);
  }

  fdatasync(h: FsHandle): void {
    fs.fdatasyncSync(h);
  }

  futimes(h: FsHandle, atimNs: bigint | null, mtimNs: bigint | null): void {
    const st = atimNs === null || mtimNs === null ? this.fstat(h) : null;
    fs.futimesSync(h, hostTime(atimNs ?? st!.atimNs), hostTime(mtimNs ?? st!.mtimNs));
  }

  utimes(path: string, atimNs: bigint | null, mtimNs: bigint | null, follow: boolean): void {
    const full = this.full(path);
    const st = atimNs === null || mtimNs === null
      ? toStat(follow ? fs.statSync(full, { bigint: true }) : fs.lstatSync(full, { bigint: true }))
      : null;
    const a = hostTime(atimNs ?? st!.atimNs);
    const m = hostTime(mtimNs ?? st!.mtimNs);
    if (follow) fs.utimesSync(full, a, m);
    else fs.lutimesSync(full, a, m);
  }

  readdir(path: string): string[] {
    return fs.readdirSync(this.full(path));
  }

  mkdir(path: string): void {
    fs.mkdirSync(this.full(path));
  }

  rmdir(path: string): void {
    fs.rmdirSync(this.full(path));
  }

  unlink(path: string): void {
    fs.unlinkSync(this.full(path));
  }

  rename(from: string, to: string): void {
    fs.renameSync(this.full(from), this.full(to));
  }

  symlink(target: string, path: string): void {
    fs.symlinkSync(target, this.full(path));
  }

  readlink(path: string): string {
    return fs.readlinkSync(this.full(path));
  }

  link(existingPath: string, newPath: string): void {
    fs.linkSync(this.full(existingPath), this.full(newPath));
  }
}
