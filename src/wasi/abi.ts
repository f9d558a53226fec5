// The wasi_snapshot_preview1 import object: decodes arguments, reads and writes guest memory, calls the
// library OS, and turns thrown errors into errno results. Everything here is synchronous.

import { EventType, Fdflags, Fstflags, PREOPENTYPE_DIR, Rights, Size, SUBSCRIPTION_CLOCK_ABSTIME } from './constants.js';
import type { Fdstat, Filestat } from './descriptor.js';
import { Errno, WasiError, errnoOf, fail } from './errno.js';
import { encodeUtf8, type GuestMemory } from './guest-memory.js';
import { poll, type Subscription } from './poll.js';
import type { WasiOs } from './wasi-os.js';

/** Thrown by proc_exit; unwinds out of the guest to whoever called its export. */
export class WasiExit extends Error {
  constructor(readonly code: number) {
    super(`guest exited with code ${code}`);
    this.name = 'WasiExit';
  }
}

/** Linux's most bytes one read or write moves (MAX_RW_COUNT: INT_MAX rounded down to a page). */
const MAX_RW_COUNT = 0x7ffff000;

// Wasm i32 arrive as signed numbers and i64 as signed bigints; WASI's are mostly unsigned.
const u32 = (v: number): number => v >>> 0;
const u64 = (v: bigint | number): bigint => BigInt.asUintN(64, BigInt(v));
const s64 = (v: bigint | number): bigint => BigInt.asIntN(64, BigInt(v));

type Fn = (...args: any[]) => number;

export function createImports(os: WasiOs, mem: GuestMemory): Record<string, (...args: any[]) => any> {
  // Every function returns 0 or an errno; OS-style errors become errnos, anything else (a bug) traps.
  const sys = (f: (...args: any[]) => void): Fn => (...args: any[]) => {
    try {
      f(...args);
      return Errno.SUCCESS;
    } catch (e) {
      const errno = errnoOf(e);
      if (errno === undefined) throw e;
      return errno;
    }
  };

  const writeFilestat = (ptr: number, st: Filestat): void => {
    const b = new DataView(new ArrayBuffer(Size.FILESTAT));
    b.setBigUint64(0, u64(st.dev), true);
    b.setBigUint64(8, u64(st.ino), true);
    b.setUint8(16, st.filetype);
    b.setBigUint64(24, u64(st.nlink), true);
    b.setBigUint64(32, u64(st.size), true);
    b.setBigUint64(40, u64(st.atim), true);
    b.setBigUint64(48, u64(st.mtim), true);
    b.setBigUint64(56, u64(st.ctim), true);
    mem.write(ptr, new Uint8Array(b.buffer));
  };

  const writeFdstat = (ptr: number, st: Fdstat): void => {
    const b = new DataView(new ArrayBuffer(Size.FDSTAT));
    b.setUint8(0, st.filetype);
    b.setUint16(2, st.flags, true);
    b.setBigUint64(8, st.rightsBase, true);
    b.setBigUint64(16, st.rightsInheriting, true);
    mem.write(ptr, new Uint8Array(b.buffer));
  };

  /** Writes NUL-terminated strings and a pointer to each (args_get / environ_get). */
  const writeStrings = (strings: string[], ptrs: number, buf: number): void => {
    let p = buf;
    strings.forEach((s, i) => {
      const bytes = encodeUtf8(s);
      mem.setU32(ptrs + i * 4, p);
      mem.write(p, bytes);
      mem.setU8(p + bytes.length, 0);
      p += bytes.length + 1;
    });
  };
  const sizes = (strings: string[], countPtr: number, sizePtr: number): void => {
    const total = strings.reduce((n, s) => n + encodeUtf8(s).length + 1, 0);
    mem.setU32(countPtr, strings.length);
    mem.setU32(sizePtr, total);
  };

  /**
   * The iovecs at iovs, cut so that together they hold at most MAX_RW_COUNT bytes: as Linux, one read or write
   * moves at most that much (a short count, which every caller must handle anyway). Iovecs may overlap, so their
   * sum is not bounded by memory; the host APIs below (and a gathered copy) are.
   */
  const iovecs = (iovs: number, n: number): Array<[number, number]> => {
    let left = MAX_RW_COUNT;
    const out: Array<[number, number]> = [];
    for (const [p, l] of mem.iovecs(u32(iovs), u32(n))) {
      out.push([p, Math.min(l, left)]);
      left -= Math.min(l, left);
    }
    return out;
  };
  const iovViews = (iovs: number, n: number): Uint8Array[] => iovecs(iovs, n).map(([p, l]) => mem.bytes(p, l));
  const gather = (iovs: number, n: number): Uint8Array => {
    const parts = iovecs(iovs, n);
    const total = parts.reduce((t, [, l]) => t + l, 0);
    const out = new Uint8Array(total);
    let off = 0;
    for (const [p, l] of parts) {
      out.set(mem.bytes(p, l), off);
      off += l;
    }
    return out;
  };
  const str = (ptr: number, len: number): string => mem.string(u32(ptr), u32(len));

  const times = (atim: bigint, mtim: bigint, fst: number): [bigint | null, bigint | null] => {
    if ((fst & Fstflags.ATIM && fst & Fstflags.ATIM_NOW) || (fst & Fstflags.MTIM && fst & Fstflags.MTIM_NOW)) {
      fail(Errno.INVAL, 'both a time and "now" given');
    }
    const now = (): bigint => os.clockTime(0);
    const a = fst & Fstflags.ATIM ? u64(atim) : fst & Fstflags.ATIM_NOW ? now() : null;
    const m = fst & Fstflags.MTIM ? u64(mtim) : fst & Fstflags.MTIM_NOW ? now() : null;
    return [a, m];
  };

  return {
    args_get: sys((argv: number, buf: number) => writeStrings(os.args, u32(argv), u32(buf))),
    args_sizes_get: sys((c: number, s: number) => sizes(os.args, u32(c), u32(s))),
    environ_get: sys((envp: number, buf: number) => writeStrings(os.env, u32(envp), u32(buf))),
    environ_sizes_get: sys((c: number, s: number) => sizes(os.env, u32(c), u32(s))),

    clock_res_get: sys((id: number, out: number) => mem.setU64(u32(out), os.clockRes(u32(id)))),
    clock_time_get: sys((id: number, _precision: bigint, out: number) => mem.setU64(u32(out), os.clockTime(u32(id)))),

    fd_advise: sys((fd: number, offset: bigint, len: bigint, advice: number) =>
      os.get(u32(fd)).advise(u64(offset), u64(len), u32(advice))),
    fd_allocate: sys((fd: number, offset: bigint, len: bigint) => os.get(u32(fd)).allocate(u64(offset), u64(len))),
    fd_close: sys((fd: number) => os.close(u32(fd))),
    fd_datasync: sys((fd: number) => os.get(u32(fd)).sync(true)),
    fd_sync: sys((fd: number) => os.get(u32(fd)).sync(false)),
    fd_fdstat_get: sys((fd: number, out: number) => writeFdstat(u32(out), os.get(u32(fd)).fdstat())),
    fd_fdstat_set_flags: sys((fd: number, flags: number) => os.get(u32(fd)).setFlags(flags & 0xffff)),
    // Rights can only be dropped (ENOTCAPABLE otherwise), and dropped ones are refused from then on, also after a
    // migration. (wasmtime 49 answers ENOTSUP to every call; older wasmtime narrowed, as here.)
    fd_fdstat_set_rights: sys((fd: number, base: bigint, inheriting: bigint) => os.get(u32(fd)).setRights(u64(base), u64(inheriting))),
    fd_filestat_get: sys((fd: number, out: number) => writeFilestat(u32(out), os.get(u32(fd)).filestat())),
    fd_filestat_set_size: sys((fd: number, size: bigint) => os.get(u32(fd)).setSize(u64(size))),
    fd_filestat_set_times: sys((fd: number, atim: bigint, mtim: bigint, fst: number) => {
      const [a, m] = times(atim, mtim, fst);
      const d = os.get(u32(fd));
      if (d.kind !== 'file' && d.kind !== 'directory') fail(Errno.BADF);
      d.setTimes(a, m);
    }),

    fd_read: sys((fd: number, iovs: number, n: number, out: number) => {
      const d = os.get(u32(fd));
      const bufs = iovViews(iovs, n);
      mem.setU32(u32(out), d.read(bufs));
    }),
    fd_pread: sys((fd: number, iovs: number, n: number, offset: bigint, out: number) => {
      const d = os.get(u32(fd));
      const bufs = iovViews(iovs, n);
      mem.setU32(u32(out), d.pread(bufs, u64(offset)));
    }),
    fd_write: sys((fd: number, iovs: number, n: number, out: number) => {
      const d = os.get(u32(fd));
      mem.setU32(u32(out), d.write(gather(iovs, n)));
    }),
    fd_pwrite: sys((fd: number, iovs: number, n: number, offset: bigint, out: number) => {
      const d = os.get(u32(fd));
      mem.setU32(u32(out), d.pwrite(gather(iovs, n), u64(offset)));
    }),
    fd_seek: sys((fd: number, offset: bigint, whence: number, out: number) => {
      const d = os.get(u32(fd));
      mem.bytes(u32(out), 8); // EFAULT before moving the offset
      mem.setU64(u32(out), d.seek(s64(offset), u32(whence)));
    }),
    fd_tell: sys((fd: number, out: number) => mem.setU64(u32(out), os.get(u32(fd)).tell())),

    fd_prestat_get: sys((fd: number, out: number) => {
      const name = encodeUtf8(os.preopenName(u32(fd)));
      mem.zero(u32(out), Size.PRESTAT);
      mem.setU8(u32(out), PREOPENTYPE_DIR);
      mem.setU32(u32(out) + 4, name.length);
    }),
    fd_prestat_dir_name: sys((fd: number, path: number, len: number) => {
      const d = os.get(u32(fd));
      if (d.kind !== 'directory') fail(Errno.NOTDIR);
      let name: Uint8Array;
      try {
        name = encodeUtf8(os.preopenName(u32(fd)));
      } catch (e) {
        if (e instanceof WasiError) fail(Errno.NOTDIR); // wasmtime's answer for a non-preopen
        throw e;
      }
      if (name.length > u32(len)) fail(Errno.NAMETOOLONG);
      mem.write(u32(path), name);
    }),
    fd_renumber: sys((from: number, to: number) => os.renumber(u32(from), u32(to))),

    fd_readdir: sys((fd: number, buf: number, bufLen: number, cookie: bigint, out: number) => {
      const d = os.dir(u32(fd));
      d.need(Rights.FD_READDIR);
      const start = u64(cookie);
      const count = BigInt(d.count(start));
      let p = u32(buf);
      const len = u32(bufLen);
      mem.bytes(p, len);
      mem.bytes(u32(out), 4);
      let cap = len;
      let next = start;
      for (let i = start; i < count && cap > 0; i++) {
        const e = d.entry(Number(i));
        const name = encodeUtf8(e.name);
        const dirent = new DataView(new ArrayBuffer(Size.DIRENT));
        dirent.setBigUint64(0, i + 1n, true);
        dirent.setBigUint64(8, u64(e.ino), true);
        dirent.setUint32(16, name.length, true);
        dirent.setUint8(20, e.filetype);
        const n = Math.min(cap, Size.DIRENT);
        mem.write(p, new Uint8Array(dirent.buffer, 0, n));
        p += n;
        cap -= n;
        const m = Math.min(cap, name.length);
        mem.write(p, name.subarray(0, m));
        p += m;
        cap -= m;
        next = i + 1n;
      }
      d.cursor = next;
      mem.setU32(u32(out), len - cap);
    }),

    path_open: sys((fd: number, dirflags: number, path: number, pathLen: number, oflags: number,
      rightsBase: bigint, rightsInheriting: bigint, fdflags: number, out: number) => {
      const p = str(path, pathLen);
      mem.bytes(u32(out), 4);
      const newFd = os.pathOpen(u32(fd), u32(dirflags), p, oflags & 0xffff, u64(rightsBase), u64(rightsInheriting), fdflags & 0xffff);
      mem.setU32(u32(out), newFd);
    }),
    path_filestat_get: sys((fd: number, flags: number, path: number, pathLen: number, out: number) =>
      writeFilestat(u32(out), os.pathFilestat(u32(fd), u32(flags), str(path, pathLen)))),
    path_filestat_set_times: sys((fd: number, flags: number, path: number, pathLen: number, atim: bigint, mtim: bigint, fst: number) => {
      const [a, m] = times(atim, mtim, fst);
      os.pathSetTimes(u32(fd), u32(flags), str(path, pathLen), a, m);
    }),
    path_create_directory: sys((fd: number, path: number, len: number) => os.pathCreateDirectory(u32(fd), str(path, len))),
    path_remove_directory: sys((fd: number, path: number, len: number) => os.pathRemoveDirectory(u32(fd), str(path, len))),
    path_unlink_file: sys((fd: number, path: number, len: number) => os.pathUnlinkFile(u32(fd), str(path, len))),
    path_rename: sys((fd: number, oldPath: number, oldLen: number, newFd: number, newPath: number, newLen: number) =>
      os.pathRename(u32(fd), str(oldPath, oldLen), u32(newFd), str(newPath, newLen))),
    path_link: sys((fd: number, flags: number, oldPath: number, oldLen: number, newFd: number, newPath: number, newLen: number) =>
      os.pathLink(u32(fd), u32(flags), str(oldPath, oldLen), u32(newFd), str(newPath, newLen))),
    path_symlink: sys((oldPath: number, oldLen: number, fd: number, newPath: number, newLen: number) =>
      os.pathSymlink(str(oldPath, oldLen), u32(fd), str(newPath, newLen))),
    path_readlink: sys((fd: number, path: number, pathLen: number, buf: number, bufLen: number, out: number) => {
      const target = encodeUtf8(os.pathReadlink(u32(fd), str(path, pathLen)));
      const n = Math.min(target.length, u32(bufLen));
      mem.bytes(u32(out), 4);
      mem.write(u32(buf), target.subarray(0, n));
      mem.setU32(u32(out), n);
    }),

    poll_oneoff: sys((inPtr: number, outPtr: number, nsubs: number, neventsPtr: number) => {
      const n = u32(nsubs);
      const base = u32(inPtr);
      mem.bytes(base, n * Size.SUBSCRIPTION);
      mem.bytes(u32(outPtr), n * Size.EVENT);
      mem.bytes(u32(neventsPtr), 4);
      const subs: Subscription[] = [];
      for (let i = 0; i < n; i++) {
        const s = base + i * Size.SUBSCRIPTION;
        const userdata = mem.u64(s);
        const tag = mem.u8(s + 8);
        if (tag === EventType.CLOCK) {
          subs.push({
            userdata, type: EventType.CLOCK, clockId: mem.u32(s + 16), timeout: mem.u64(s + 24),
            abstime: (mem.u16(s + 40) & SUBSCRIPTION_CLOCK_ABSTIME) !== 0,
          });
        } else if (tag === EventType.FD_READ || tag === EventType.FD_WRITE) {
          subs.push({ userdata, type: tag, fd: mem.u32(s + 16) });
        } else {
          fail(Errno.INVAL, `bad subscription tag ${tag}`);
        }
      }
      const events = poll(os, subs);
      events.forEach((e, i) => {
        const p = u32(outPtr) + i * Size.EVENT;
        mem.zero(p, Size.EVENT);
        mem.setU64(p, e.userdata);
        mem.setU16(p + 8, e.error);
        mem.setU8(p + 10, e.type);
        mem.setU64(p + 16, e.nbytes);
        mem.setU16(p + 24, e.flags);
      });
      mem.setU32(u32(neventsPtr), events.length);
    }),

    proc_exit: (code: number): never => {
      // As wasmtime: a status outside [0, 126) is an error, not an exit (the host would cut 256 to 0, and 126 and
      // up mean "not run" and signals to a shell). A RuntimeError so that every runner reports it as a trap.
      if (u32(code) >= 126) {
        throw new WebAssembly.RuntimeError(`proc_exit(${u32(code)}): an exit status must be below 126 (as in wasmtime); exit with a smaller code`);
      }
      throw new WasiExit(u32(code));
    },
    proc_raise: sys(() => fail(Errno.NOTSUP, 'proc_raise is not supported')),
    sched_yield: sys(() => {}),
    random_get: sys((buf: number, len: number) => {
      const target = mem.bytes(u32(buf), u32(len));
      const tmp = new Uint8Array(target.length);
      os.randomFill(tmp);
      mem.write(u32(buf), tmp);
    }),

    // Sockets (fd-socket.ts): guest pointers are checked before the call, so a bad one never loses a connection or
    // bytes the home already handed over.
    sock_accept: sys((fd: number, flags: number, out: number) => {
      const listener = os.socket(u32(fd));
      if ((flags & 0xffff & ~Fdflags.NONBLOCK) !== 0) fail(Errno.INVAL, 'sock_accept takes only O_NONBLOCK');
      mem.bytes(u32(out), 4);
      mem.setU32(u32(out), os.table.insert(listener.accept((flags & Fdflags.NONBLOCK) !== 0)));
    }),
    sock_recv: sys((fd: number, iovs: number, n: number, flags: number, outLen: number, outFlags: number) => {
      const s = os.socket(u32(fd));
      if ((flags & 0xffff & ~3) !== 0) fail(Errno.NOTSUP, `sock_recv flags ${flags}`);
      const bufs = iovViews(iovs, n);
      mem.bytes(u32(outLen), 4);
      mem.bytes(u32(outFlags), 2);
      const got = s.recv(bufs, { peek: (flags & 1) !== 0, waitAll: (flags & 2) !== 0 });
      mem.setU32(u32(outLen), got);
      mem.setU16(u32(outFlags), 0);
    }),
    sock_send: sys((fd: number, iovs: number, n: number, _flags: number, out: number) => {
      const s = os.socket(u32(fd));
      const data = gather(iovs, n);
      mem.bytes(u32(out), 4);
      mem.setU32(u32(out), s.send(data));
    }),
    sock_shutdown: sys((fd: number, how: number) => os.socket(u32(fd)).shutdown(u32(how))),
  };
}
