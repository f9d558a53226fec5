// The library OS proper: descriptor table, path operations inside preopen capabilities, clocks, and the
// export/import of all of it. Works on plain values; guest memory and the ABI are abi.ts's business.

import { ClockId, Oflags, PREOPEN_RIGHTS_INHERITING, Rights } from './constants.js';
import { Descriptor, filestatOf, type DescriptorState, type Filestat, type Mount } from './descriptor.js';
import { Errno, fail } from './errno.js';
import { ExactTimes } from './exact-times.js';
import { DirectoryDescriptor } from './fd-directory.js';
import { FileDescriptor, fileRights } from './fd-file.js';
import { SocketDescriptor } from './fd-socket.js';
import type { SocketRef } from './sockets.js';
import { OutputDescriptor, StdinDescriptor } from './fd-stdio.js';
import { FdTable } from './fd-table.js';
import type { FsHandle } from './fs-backend.js';
import { defaultClocks, defaultRandomFill, type WasiClocks, type WasiOptions } from './options.js';
import { checkPathLength, resolvePath, restoredPath, type Resolved } from './path-resolve.js';
import { StateRefused } from './state-refused.js';
import { parseWasiState, WASI_STATE_VERSION, type WasiState } from './state.js';

export class WasiOs {
  args: string[];
  env: string[];
  readonly mounts: Mount[];
  readonly table = new FdTable();
  private readonly clocks: WasiClocks;
  readonly randomFill: (buf: Uint8Array) => void;
  /** Added to the host's monotonic clock so the guest's never runs backwards across a migration. */
  private monotonicOffset = 0n;

  constructor(private readonly options: WasiOptions) {
    this.args = [...options.args];
    this.env = [...options.env];
    this.clocks = options.clocks ?? defaultClocks;
    this.randomFill = options.randomFill ?? defaultRandomFill;
    this.mounts = options.preopens.map((p, index) => ({ index, guestPath: p.guestPath, backend: p.backend, times: new ExactTimes(p.backend.timeSlackNs) }));
    this.table.set(0, this.stdio('stdin'));
    this.table.set(1, this.stdio('stdout'));
    this.table.set(2, this.stdio('stderr'));
    for (const m of this.mounts) this.table.set(3 + m.index, new DirectoryDescriptor(m, '', m.guestPath));
    // After the folders: wasi-libc looks for preopened folders from fd 3 up and stops at the first descriptor that
    // is not one, so a listener before them would hide them.
    const listeners = options.listeners ?? [];
    if (listeners.length > 0 && !options.sockets) throw new Error('WasiOptions.listeners need WasiOptions.sockets');
    listeners.forEach((ref, i) => this.table.set(3 + this.mounts.length + i, new SocketDescriptor(options.sockets!, 'listener', ref, false, false, i)));
  }

  private stdio(kind: 'stdin' | 'stdout' | 'stderr'): Descriptor {
    if (kind === 'stdin') return new StdinDescriptor(this.options.stdin);
    return new OutputDescriptor(kind, kind === 'stdout' ? this.options.stdout : this.options.stderr);
  }

  // ---- clocks ----

  clockTime(id: number): bigint {
    switch (id) {
      case ClockId.REALTIME: return this.clocks.realtimeNs();
      case ClockId.MONOTONIC: return this.clocks.monotonicNs() + this.monotonicOffset;
      case ClockId.PROCESS_CPUTIME_ID:
      case ClockId.THREAD_CPUTIME_ID: return fail(Errno.BADF, 'CPU-time clocks are not supported (as in wasmtime)');
      default: return fail(Errno.INVAL, `unknown clock ${id}`);
    }
  }

  clockRes(id: number): bigint {
    this.clockTime(id);
    return 1000n;
  }

  // ---- descriptors ----

  get(fd: number): Descriptor { return this.table.get(fd); }

  file(fd: number): FileDescriptor {
    const d = this.table.get(fd);
    if (!(d instanceof FileDescriptor)) fail(Errno.BADF, `fd ${fd} is not a file`);
    return d;
  }

  /**
   * The directory a path_* call or fd_readdir works through. A regular file is ENOTDIR (POSIX, and wasmtime,
   * whose host openat/fdopendir on the file says so); stdio and closed numbers stay EBADF, as in wasmtime.
   */
  dir(fd: number): DirectoryDescriptor {
    const d = this.table.get(fd);
    if (d instanceof FileDescriptor) fail(Errno.NOTDIR, `fd ${fd} is a file, not a directory`);
    if (!(d instanceof DirectoryDescriptor)) fail(Errno.BADF, `fd ${fd} is not a directory`);
    return d;
  }

  socket(fd: number): SocketDescriptor {
    const d = this.table.get(fd);
    if (!(d instanceof SocketDescriptor)) fail(Errno.NOTSOCK, `fd ${fd} is not a socket`);
    return d;
  }

  /** The host's sockets, for poll_oneoff (a table with sockets in it has them). */
  get sockets() {
    return this.options.sockets;
  }

  close(fd: number): void {
    this.table.remove(fd).close();
  }

  renumber(from: number, to: number): void {
    const d = this.table.get(from);
    // As wasmtime: the destination must be open (renumbering is dup2 onto a descriptor the program holds).
    if (!this.table.has(to)) fail(Errno.BADF, `fd ${to} is not open`);
    if (from === to) return;
    if (this.table.has(to)) this.table.remove(to).close();
    this.table.remove(from);
    this.table.set(to, d);
  }

  preopenName(fd: number): string {
    const d = this.table.get(fd);
    if (!(d instanceof DirectoryDescriptor) || d.preopenName === null) fail(Errno.BADF, `fd ${fd} is not a preopen`);
    return d.preopenName;
  }

  // ---- paths ----

  private resolve(d: DirectoryDescriptor, path: string, follow: boolean): Resolved {
    return resolvePath(d.mount.backend, d.parts, path, follow);
  }

  pathOpen(fd: number, lookupflags: number, path: string, oflags: number, rightsBase: bigint, rightsInheriting: bigint, fdflags: number): number {
    const d = this.dir(fd);
    d.need(Rights.PATH_OPEN);
    const wantDir = (oflags & Oflags.DIRECTORY) !== 0;
    const create = (oflags & Oflags.CREAT) !== 0;
    const excl = (oflags & Oflags.EXCL) !== 0;
    const trunc = (oflags & Oflags.TRUNC) !== 0;
    if (wantDir && (create || excl || trunc)) fail(Errno.INVAL, 'O_DIRECTORY with O_CREAT/O_EXCL/O_TRUNC');
    const read = (rightsBase & Rights.FD_READ) !== 0n;
    const write = (rightsBase & Rights.FD_WRITE) !== 0n;
    // What the program dropped from the directory's inheriting rights (fd_fdstat_set_rights) no file opened under it
    // holds, and an open mode that needs it is refused. (Rights a preopen never passes on, like SOCK_ACCEPT, are
    // not "dropped": files report them as wasmtime does.)
    const dropped = PREOPEN_RIGHTS_INHERITING & ~d.fdstat().rightsInheriting;
    if ((read && (dropped & Rights.FD_READ) !== 0n) || (write && (dropped & Rights.FD_WRITE) !== 0n)) {
      fail(Errno.NOTCAPABLE, `${path}: the directory passes on no ${read && (dropped & Rights.FD_READ) !== 0n ? 'read' : 'write'} right`);
    }
    const r = this.resolve(d, path, (lookupflags & 1) !== 0);
    const backend = d.mount.backend;
    let handle: FsHandle;
    if (r.stat === null) {
      if (!create) fail(Errno.NOENT, `${path}: no such file or directory`);
      if (r.mustBeDir) fail(Errno.ISDIR, `${path}: cannot create a file with a trailing slash`);
      handle = backend.open(r.path, { read, write, create: true, exclusive: excl, truncate: trunc });
    } else {
      if (create && excl) fail(Errno.EXIST, `${path}: exists`);
      if (r.stat.kind === 'symlink') fail(wantDir ? Errno.NOTDIR : Errno.LOOP, `${path}: is a symlink (not followed)`);
      if (r.stat.kind === 'directory') {
        if (write || create || trunc) fail(Errno.ISDIR, `${path}: is a directory`);
        // Rights never grow down the tree: the new directory holds what the parent passes on (as wasmtime, whatever
        // was asked, so a program that asked for less still works), less what only a file can hold.
        const bound = d.fdstat().rightsInheriting;
        return this.table.insert(new DirectoryDescriptor(d.mount, r.path, null, bound, bound));
      }
      if (wantDir) fail(Errno.NOTDIR, `${path}: not a directory`);
      handle = backend.open(r.path, { read, write, create: false, exclusive: false, truncate: trunc });
    }
    // The file holds every right its open mode gives (as wasmtime reports them), whatever was asked.
    const held = fileRights(read, write) & ~dropped;
    return this.table.insert(new FileDescriptor(d.mount, r.path, handle, {
      read, write, fdflags: fdflags & 0x1f, offset: 0n, rightsBase: held, rightsInheriting: held,
    }));
  }

  pathFilestat(fd: number, lookupflags: number, path: string): Filestat {
    const r = this.resolve(this.dir(fd), path, (lookupflags & 1) !== 0);
    if (r.stat === null) fail(Errno.NOENT, `${path}: no such file or directory`);
    return this.dir(fd).mount.times.apply(r.path, filestatOf(r.stat));
  }

  pathSetTimes(fd: number, lookupflags: number, path: string, atim: bigint | null, mtim: bigint | null): void {
    const d = this.dir(fd);
    const r = this.resolve(d, path, (lookupflags & 1) !== 0);
    if (r.stat === null) fail(Errno.NOENT, `${path}: no such file or directory`);
    d.mount.backend.utimes(r.path, atim, mtim, false);
    d.mount.times.set(r.path, atim, mtim, filestatOf(d.mount.backend.lstat(r.path)));
  }

  pathCreateDirectory(fd: number, path: string): void {
    const d = this.dir(fd);
    const r = this.resolve(d, path, false);
    if (r.stat !== null) fail(Errno.EXIST, `${path}: exists`);
    d.mount.backend.mkdir(r.path);
  }

  pathUnlinkFile(fd: number, path: string): void {
    const d = this.dir(fd);
    const r = this.resolve(d, path, false);
    if (r.stat === null) fail(Errno.NOENT, `${path}: no such file or directory`);
    if (r.stat.kind === 'directory') fail(Errno.ISDIR, `${path}: is a directory`);
    d.mount.backend.unlink(r.path);
  }

  pathRemoveDirectory(fd: number, path: string): void {
    const d = this.dir(fd);
    const r = this.resolve(d, path, false);
    if (r.stat === null) fail(Errno.NOENT, `${path}: no such file or directory`);
    if (r.stat.kind !== 'directory') fail(Errno.NOTDIR, `${path}: not a directory`);
    if (r.isBase) fail(Errno.INVAL, `${path}: is the directory itself`);
    d.mount.backend.rmdir(r.path);
  }

  pathRename(fd: number, oldPath: string, newFd: number, newPath: string): void {
    const d1 = this.dir(fd);
    const d2 = this.dir(newFd);
    const s = this.resolve(d1, oldPath, false);
    const t = this.resolve(d2, newPath, false);
    if (s.stat === null) fail(Errno.NOENT, `${oldPath}: no such file or directory`);
    if (s.isBase || t.isBase) fail(Errno.BUSY, 'cannot rename a directory descriptor itself');
    if (t.mustBeDir && s.stat.kind !== 'directory') fail(Errno.NOTDIR, `${newPath}: not a directory`);
    if (d1.mount.backend !== d2.mount.backend) fail(Errno.XDEV, 'rename across filesystems');
    d1.mount.backend.rename(s.path, t.path);
    d1.mount.times.rename(s.path, t.path);
    // Descriptors name files by path: follow the move.
    for (const [, desc] of this.table.entries()) {
      if ((desc instanceof FileDescriptor || desc instanceof DirectoryDescriptor) && desc.mount.backend === d1.mount.backend) {
        if (desc.path === s.path) desc.path = t.path;
        else if (desc.path.startsWith(s.path + '/')) desc.path = t.path + desc.path.slice(s.path.length);
      }
    }
  }

  pathSymlink(target: string, fd: number, path: string): void {
    const d = this.dir(fd);
    const r = this.resolve(d, path, false);
    if (r.stat !== null) fail(Errno.EXIST, `${path}: exists`);
    // As Linux: a new name with a trailing slash would have to be a directory, which a symlink is not.
    if (r.mustBeDir) fail(Errno.NOENT, `${path}: a symlink cannot be created with a trailing slash`);
    if (target.startsWith('/')) fail(Errno.NOTCAPABLE, 'absolute symlink targets are not allowed in a sandbox');
    if (target === '' || target.includes('\0')) fail(Errno.NOENT, 'empty symlink target');
    checkPathLength(target, 'symlink target');
    d.mount.backend.symlink(target, r.path);
  }

  pathReadlink(fd: number, path: string): string {
    const d = this.dir(fd);
    const r = this.resolve(d, path, false);
    if (r.stat === null) fail(Errno.NOENT, `${path}: no such file or directory`);
    if (r.stat.kind !== 'symlink') fail(Errno.INVAL, `${path}: not a symlink`);
    return d.mount.backend.readlink(r.path);
  }

  pathLink(fd: number, lookupflags: number, oldPath: string, newFd: number, newPath: string): void {
    const d1 = this.dir(fd);
    const d2 = this.dir(newFd);
    const s = this.resolve(d1, oldPath, (lookupflags & 1) !== 0);
    const t = this.resolve(d2, newPath, false);
    if (s.stat === null) fail(Errno.NOENT, `${oldPath}: no such file or directory`);
    if (t.stat !== null) fail(Errno.EXIST, `${newPath}: exists`);
    if (s.stat.kind === 'directory') fail(Errno.PERM, `${oldPath}: cannot hard-link a directory`);
    if (t.mustBeDir) fail(Errno.NOENT, `${newPath}: a link to a file cannot be created with a trailing slash`); // as Linux
    if (d1.mount.backend !== d2.mount.backend) fail(Errno.XDEV, 'link across filesystems');
    d1.mount.backend.link(s.path, t.path);
  }

  /**
   * The whole regular file at a guest path, for host helpers (kafu_helper.image_to_tensor): absolute, or relative
   * to "/" as wasi-libc resolves a program's relative paths; inside the mount whose guest path is its longest
   * prefix, with the same sandbox as path_open. Errors are WasiErrors (ENOENT, ENOTCAPABLE, EFBIG …).
   */
  readFile(guestPath: string, maxBytes: number): Uint8Array {
    const abs = guestPath.startsWith('/') ? guestPath : `/${guestPath}`;
    let mount: Mount | undefined;
    let rest = '';
    for (const m of this.mounts) {
      const g = m.guestPath.replace(/\/+$/, '');
      if ((abs === g || abs.startsWith(`${g}/`)) && (!mount || g.length > mount.guestPath.replace(/\/+$/, '').length)) {
        mount = m;
        rest = abs.slice(g.length).replace(/^\/+/, '');
      }
    }
    if (!mount) return fail(Errno.NOENT, `${guestPath}: not inside any mount`);
    const r = resolvePath(mount.backend, [], rest === '' ? '.' : rest, true);
    if (r.stat === null) fail(Errno.NOENT, `${guestPath}: no such file`);
    if (r.stat.kind !== 'file') fail(Errno.INVAL, `${guestPath}: not a regular file`);
    if (r.stat.size > BigInt(maxBytes)) fail(Errno.FBIG, `${guestPath}: larger than ${maxBytes} bytes`);
    const h = mount.backend.open(r.path, { read: true, write: false, create: false, exclusive: false, truncate: false });
    try {
      const out = new Uint8Array(Number(r.stat.size));
      let n = 0;
      while (n < out.length) {
        const got = mount.backend.pread(h, out.subarray(n), BigInt(n));
        if (got === 0) break;
        n += got;
      }
      return out.subarray(0, n);
    } finally {
      mount.backend.close(h);
    }
  }

  // ---- migration ----

  migrationBlocker(): string | null {
    for (const [fd, d] of this.table.entries()) {
      const why = d.migrationBlocker();
      if (why) return `fd ${fd}: ${why}`;
    }
    return null;
  }

  exportState(): WasiState {
    const blocker = this.migrationBlocker();
    if (blocker) throw new Error(`cannot export WASI state: ${blocker}`);
    return {
      version: WASI_STATE_VERSION,
      args: [...this.args],
      env: [...this.env],
      preopens: this.mounts.map((m) => m.guestPath),
      fds: this.table.entries().map(([fd, d]) => ({ fd, desc: d.exportState() })),
      monotonicNs: this.clockTime(ClockId.MONOTONIC).toString(),
      times: this.mounts.flatMap((m) => m.times.export().map((t) => ({ preopen: m.index, ...t }))),
    };
  }

  /** Close every host handle: the program has left this host (its state was exported) or has ended. */
  release(): void {
    for (const [, d] of this.table.entries()) d.release();
    this.table.clear();
  }

  /**
   * Restore `raw` (from a snapshot: checked here whole before any file is reopened, then each path against the
   * disk as it is reopened). All or nothing: throws StateRefused, naming the fd and the path, and keeps nothing.
   */
  importState(raw: unknown): void {
    const state = parseWasiState(raw, this.mounts.map((m) => m.guestPath));
    const built: Array<[number, Descriptor]> = [];
    // Asked once, and only of a host that has them, when a pre-opened listener arrives.
    let listenersNow: Array<SocketRef | null> | undefined;
    const now = () => (listenersNow ??= this.options.sockets?.listeners?.() ?? []);
    try {
      for (const { fd, desc } of state.fds) built.push([fd, this.reopen(fd, desc, now)]);
    } catch (e) {
      for (const [, d] of built) d.release();
      throw e;
    }
    for (const [, d] of this.table.entries()) d.release();
    this.table.clear();
    for (const [fd, d] of built) this.table.set(fd, d);
    this.args = [...state.args];
    this.env = [...state.env];
    for (const m of this.mounts) m.times.import((state.times ?? []).filter((t) => t.preopen === m.index));
    const guestNow = BigInt(state.monotonicNs);
    const hostNow = this.clocks.monotonicNs();
    this.monotonicOffset = guestNow > hostNow ? guestNow - hostNow : 0n;
  }

  /** A descriptor of a checked state, its path checked against the disk by the one gate (restoredPath). */
  private reopen(fd: number, s: DescriptorState, listenersNow: () => Array<SocketRef | null>): Descriptor {
    if (s.kind === 'socket') {
      if (!this.options.sockets) throw new StateRefused(`fd ${fd}: a socket, and this host has none`);
      // A listener whose home opened it again (the home restarted: --resume, a checkpoint's recovery) under a new
      // handle: the same address and port, so the program accepts on, from the new handle's first call.
      const again = s.role === 'listener' && s.listen !== undefined ? listenersNow()[s.listen] : null;
      if (again && again.home === s.home && again.id !== s.id) {
        return new SocketDescriptor(this.options.sockets, 'listener', { home: s.home, id: again.id, seq: 0 }, s.nonblocking, false, s.listen);
      }
      return new SocketDescriptor(this.options.sockets, s.role, { home: s.home, id: s.id, seq: s.seq }, s.nonblocking, s.lost, s.listen);
    }
    if (!('preopen' in s)) return this.stdio(s.kind);
    const m = this.mount(s.preopen);
    const where = `${s.kind} "${s.path}" in preopen ${m.guestPath}`;
    const r = restoredPath(m.backend, s.path, `fd ${fd}: path`, s.kind === 'directory');
    if (s.kind === 'directory') {
      if (r.stat?.kind !== 'directory') throw new StateRefused(`fd ${fd}: cannot reopen ${where}: it is no longer a directory`);
      const d = new DirectoryDescriptor(m, s.path, s.preopenName, BigInt(s.rightsBase), BigInt(s.rightsInheriting));
      d.cursor = BigInt(s.cursor);
      if (s.listing != null) d.listing = [...s.listing];
      return d;
    }
    if (r.stat?.kind !== 'file') {
      throw new StateRefused(`fd ${fd}: cannot reopen ${where}: ${r.stat ? 'not a regular file' : 'no such file'}`);
    }
    let h: FsHandle;
    try {
      h = m.backend.open(s.path, { read: s.read, write: s.write, create: false, exclusive: false, truncate: false });
    } catch (e) {
      throw new StateRefused(`fd ${fd}: cannot reopen ${where}: ${(e as Error).message}`);
    }
    return new FileDescriptor(m, s.path, h, {
      read: s.read, write: s.write, fdflags: s.fdflags & 0x1f, offset: BigInt(s.offset),
      rightsBase: BigInt(s.rightsBase), rightsInheriting: BigInt(s.rightsInheriting),
    });
  }

  private mount(i: number): Mount {
    const m = this.mounts[i];
    if (!m) throw new StateRefused(`no preopen ${i}`);
    return m;
  }
}
