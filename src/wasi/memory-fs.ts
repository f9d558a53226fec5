// An in-memory FsBackend: a tree of inodes with POSIX-like semantics (hard links, symlinks, unlinked-but-open
// files). Used by tests, and by hosts without a real filesystem (a browser node).

import { FsError, splitPath, type FsBackend, type FsHandle, type FsKind, type FsOpenFlags, type FsStat } from './fs-backend.js';

interface Inode {
  kind: 'file' | 'directory' | 'symlink';
  ino: bigint;
  nlink: bigint;
  data: Uint8Array; // file contents (capacity may exceed size)
  size: number;
  entries: Map<string, Inode>; // directories
  target: string; // symlinks
  atimNs: bigint;
  mtimNs: bigint;
  ctimNs: bigint;
}

const err = (code: string, what: string): FsError => new FsError(code, `${code}: ${what}`);

export class MemoryFsBackend implements FsBackend {
  private nextIno = 1n;
  private readonly root: Inode;
  private readonly handles = new Map<number, { inode: Inode; read: boolean; write: boolean }>();
  private nextHandle = 1;

  constructor(private readonly now: () => bigint = () => BigInt(Date.now()) * 1_000_000n) {
    this.root = this.inode('directory');
  }

  private inode(kind: Inode['kind']): Inode {
    const t = this.now();
    return {
      kind, ino: this.nextIno++, nlink: kind === 'directory' ? 2n : 1n, data: new Uint8Array(0), size: 0,
      entries: new Map(), target: '', atimNs: t, mtimNs: t, ctimNs: t,
    };
  }

  /** Walks to the inode at path; intermediate symlinks are followed (clamped at the root), the last is not. */
  private lookup(path: string, follow = false, depth = 0): Inode {
    const { parent, name } = this.parentOf(path, depth);
    if (name === null) return parent;
    const node = parent.entries.get(name);
    if (!node) throw err('ENOENT', path);
    if (follow && node.kind === 'symlink') return this.lookup(this.resolveLink(path, node.target), true, depth + 1);
    return node;
  }

  private resolveLink(linkPath: string, target: string): string {
    const parts = target.startsWith('/') ? [] : splitPath(linkPath).slice(0, -1);
    for (const c of target.split('/')) {
      if (c === '' || c === '.') continue;
      if (c === '..') parts.pop();
      else parts.push(c);
    }
    return parts.join('/');
  }

  /** The directory holding the last component of path, and that component's name (null for the root). */
  private parentOf(path: string, depth = 0): { parent: Inode; name: string | null } {
    if (depth > 40) throw err('ELOOP', path);
    const parts = splitPath(path);
    if (parts.length === 0) return { parent: this.root, name: null };
    let dir = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      let next = dir.entries.get(parts[i]!);
      if (!next) throw err('ENOENT', path);
      if (next.kind === 'symlink') {
        next = this.lookup(this.resolveLink(parts.slice(0, i + 1).join('/'), next.target), true, depth + 1);
      }
      if (next.kind !== 'directory') throw err('ENOTDIR', path);
      dir = next;
    }
    return { parent: dir, name: parts[parts.length - 1]! };
  }

  private stat(n: Inode): FsStat {
    const kind: FsKind = n.kind;
    return {
      kind, dev: 1n, ino: n.ino, nlink: n.nlink,
      size: n.kind === 'file' ? BigInt(n.size) : n.kind === 'symlink' ? BigInt(n.target.length) : 4096n,
      atimNs: n.atimNs, mtimNs: n.mtimNs, ctimNs: n.ctimNs,
    };
  }

  private handle(h: FsHandle): { inode: Inode; read: boolean; write: boolean } {
    const e = this.handles.get(h);
    if (!e) throw err('EBADF', `handle ${h}`);
    return e;
  }

  lstat(path: string): FsStat {
    return this.stat(this.lookup(path));
  }

  open(path: string, flags: FsOpenFlags): FsHandle {
    const { parent, name } = this.parentOf(path);
    let node = name === null ? parent : parent.entries.get(name);
    if (node && flags.create && flags.exclusive) throw err('EEXIST', path);
    if (!node) {
      if (!flags.create || name === null) throw err('ENOENT', path);
      node = this.inode('file');
      parent.entries.set(name, node);
      parent.mtimNs = parent.ctimNs = this.now();
    }
    if (node.kind === 'symlink') throw err('ELOOP', path);
    if (node.kind === 'directory') {
      if (flags.write || flags.truncate || flags.create) throw err('EISDIR', path);
    }
    if (flags.truncate && node.kind === 'file' && node.size !== 0) {
      node.size = 0;
      node.data = new Uint8Array(0);
      node.mtimNs = node.ctimNs = this.now();
    }
    const h = this.nextHandle++;
    this.handles.set(h, { inode: node, read: flags.read, write: flags.write || flags.truncate });
    return h;
  }

  close(h: FsHandle): void {
    this.handle(h);
    this.handles.delete(h);
  }

  pread(h: FsHandle, buf: Uint8Array, position: bigint): number {
    const { inode } = this.handle(h);
    if (inode.kind === 'directory') throw err('EISDIR', 'read');
    if (position >= BigInt(inode.size)) return 0;
    const pos = Number(position);
    const n = Math.min(buf.length, inode.size - pos);
    buf.set(inode.data.subarray(pos, pos + n));
    inode.atimNs = this.now();
    return n;
  }

  pwrite(h: FsHandle, data: Uint8Array, position: bigint): number {
    const { inode, write } = this.handle(h);
    if (!write) throw err('EBADF', 'not open for writing');
    if (inode.kind !== 'file') throw err('EISDIR', 'write');
    const end = Number(position) + data.length;
    if (!Number.isSafeInteger(end) || end > 2 ** 32) throw err('EFBIG', 'write');
    this.ensure(inode, end);
    inode.data.set(data, Number(position));
    if (end > inode.size) inode.size = end;
    inode.mtimNs = inode.ctimNs = this.now();
    return data.length;
  }

  private ensure(inode: Inode, size: number): void {
    if (inode.data.length >= size) return;
    const grown = new Uint8Array(Math.max(size, inode.data.length * 2, 64));
    grown.set(inode.data.subarray(0, inode.size));
    inode.data = grown;
  }

  fstat(h: FsHandle): FsStat {
    return this.stat(this.handle(h).inode);
  }

  ftruncate(h: FsHandle, size: bigint): void {
    const { inode, write } = this.handle(h);
    if (!write) throw err('EINVAL', 'not open for writing');
    if (inode.kind !== 'file') throw err('EINVAL', 'not a file');
    if (size > 2n ** 32n) throw err('EFBIG', 'truncate');
    const n = Number(size);
    this.ensure(inode, n);
    if (n > inode.size) inode.data.fill(0, inode.size, n);
    inode.size = n;
    inode.mtimNs = inode.ctimNs = this.now();
  }

  fsync(h: FsHandle): void { this.handle(h); }
  fdatasync(h: FsHandle): void { this.handle(h); }

  futimes(h: FsHandle, atimNs: bigint | null, mtimNs: bigint | null): void {
    this.setTimes(this.handle(h).inode, atimNs, mtimNs);
  }

  utimes(path: string, atimNs: bigint | null, mtimNs: bigint | null, follow: boolean): void {
    this.setTimes(this.lookup(path, follow), atimNs, mtimNs);
  }

  private setTimes(n: Inode, atimNs: bigint | null, mtimNs: bigint | null): void {
    if (atimNs !== null) n.atimNs = atimNs;
    if (mtimNs !== null) n.mtimNs = mtimNs;
    n.ctimNs = this.now();
  }

  readdir(path: string): string[] {
    const n = this.lookup(path, true);
    if (n.kind !== 'directory') throw err('ENOTDIR', path);
    return [...n.entries.keys()];
  }

  mkdir(path: string): void {
    const { parent, name } = this.parentOf(path);
    if (name === null || parent.entries.has(name)) throw err('EEXIST', path);
    parent.entries.set(name, this.inode('directory'));
    parent.nlink++;
    parent.mtimNs = parent.ctimNs = this.now();
  }

  rmdir(path: string): void {
    const { parent, name } = this.parentOf(path);
    if (name === null) throw err('EBUSY', path);
    const n = parent.entries.get(name);
    if (!n) throw err('ENOENT', path);
    if (n.kind !== 'directory') throw err('ENOTDIR', path);
    if (n.entries.size > 0) throw err('ENOTEMPTY', path);
    parent.entries.delete(name);
    parent.nlink--;
    n.nlink = 0n;
    parent.mtimNs = parent.ctimNs = this.now();
  }

  unlink(path: string): void {
    const { parent, name } = this.parentOf(path);
    if (name === null) throw err('EISDIR', path);
    const n = parent.entries.get(name);
    if (!n) throw err('ENOENT', path);
    if (n.kind === 'directory') throw err('EISDIR', path);
    parent.entries.delete(name);
    n.nlink--;
    parent.mtimNs = parent.ctimNs = this.now();
  }

  rename(from: string, to: string): void {
    const src = this.parentOf(from);
    const dst = this.parentOf(to);
    if (src.name === null || dst.name === null) throw err('EBUSY', from);
    const node = src.parent.entries.get(src.name);
    if (!node) throw err('ENOENT', from);
    const existing = dst.parent.entries.get(dst.name);
    if (existing === node) return;
    if (node.kind === 'directory') {
      // A directory cannot move inside itself.
      if (to === from || to.startsWith(from + '/')) throw err('EINVAL', to);
      if (existing) {
        if (existing.kind !== 'directory') throw err('ENOTDIR', to);
        if (existing.entries.size > 0) throw err('ENOTEMPTY', to);
      }
    } else if (existing && existing.kind === 'directory') {
      throw err('EISDIR', to);
    }
    if (existing) {
      existing.nlink = existing.kind === 'directory' ? 0n : existing.nlink - 1n;
      if (existing.kind === 'directory') dst.parent.nlink--;
    }
    src.parent.entries.delete(src.name);
    dst.parent.entries.set(dst.name, node);
    if (node.kind === 'directory') { src.parent.nlink--; dst.parent.nlink++; }
    const t = this.now();
    src.parent.mtimNs = src.parent.ctimNs = dst.parent.mtimNs = dst.parent.ctimNs = node.ctimNs = t;
  }

  symlink(target: string, path: string): void {
    const { parent, name } = this.parentOf(path);
    if (name === null || parent.entries.has(name)) throw err('EEXIST', path);
    const n = this.inode('symlink');
    n.target = target;
    parent.entries.set(name, n);
    parent.mtimNs = parent.ctimNs = this.now();
  }

  readlink(path: string): string {
    const n = this.lookup(path);
    if (n.kind !== 'symlink') throw err('EINVAL', path);
    return n.target;
  }

  link(existingPath: string, newPath: string): void {
    const n = this.lookup(existingPath);
    if (n.kind === 'directory') throw err('EPERM', existingPath);
    const { parent, name } = this.parentOf(newPath);
    if (name === null || parent.entries.has(name)) throw err('EEXIST', newPath);
    parent.entries.set(name, n);
    n.nlink++;
    n.ctimNs = parent.mtimNs = parent.ctimNs = this.now();
  }

  // Conveniences for tests and for seeding a filesystem.

  writeFile(path: string, data: Uint8Array | string): void {
    const h = this.open(path, { read: false, write: true, create: true, exclusive: false, truncate: true });
    try {
      this.pwrite(h, typeof data === 'string' ? new TextEncoder().encode(data) : data, 0n);
    } finally {
      this.close(h);
    }
  }

  readFile(path: string): Uint8Array {
    const n = this.lookup(path, true);
    if (n.kind !== 'file') throw err('EISDIR', path);
    return n.data.slice(0, n.size);
  }

  mkdirp(path: string): void {
    const parts = splitPath(path);
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      try { this.mkdir(p); } catch (e) { if ((e as FsError).code !== 'EEXIST') throw e; }
    }
  }
}
