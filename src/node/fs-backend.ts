// The host filesystem as a WASI preopen: an FsBackend over a host folder, with node:fs sync calls. Paths
// reaching here are already resolved and sandboxed by the library OS (src/wasi/path-resolve.ts); files are
// opened with O_NOFOLLOW so a symlink swapped in afterwards is refused rather than followed.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { FsBackend, FsHandle, FsKind, FsOpenFlags, FsStat } from '../wasi/fs-backend.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC } = fs.constants;
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

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

const seconds = (ns: bigint): number => Number(ns / 1000n) / 1e6;

export class NodeFsBackend implements FsBackend {
  readonly root: string;

  constructor(root: string) {
    this.root = nodePath.resolve(root);
  }

  private full(path: string): string {
    return path === '' ? this.root : nodePath.join(this.root, path);
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
    return fs.readSync(h, buf, 0, buf.length, position);
  }

  pwrite(h: FsHandle, data: Uint8Array, position: bigint): number {
    return fs.writeSync(h, data, 0, data.length, Number(position));
  }

  fstat(h: FsHandle): FsStat {
    return toStat(fs.fstatSync(h, { bigint: true }));
  }

  ftruncate(h: FsHandle, size: bigint): void {
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
    fs.futimesSync(h, seconds(atimNs ?? st!.atimNs), seconds(mtimNs ?? st!.mtimNs));
  }

  utimes(path: string, atimNs: bigint | null, mtimNs: bigint | null, follow: boolean): void {
    const full = this.full(path);
    const st = atimNs === null || mtimNs === null
      ? toStat(follow ? fs.statSync(full, { bigint: true }) : fs.lstatSync(full, { bigint: true }))
      : null;
    const a = seconds(atimNs ?? st!.atimNs);
    const m = seconds(mtimNs ?? st!.mtimNs);
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
