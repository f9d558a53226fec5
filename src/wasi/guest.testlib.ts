// Test-only: a fake guest that drives the wasi_snapshot_preview1 imports against a WebAssembly.Memory
// filled by hand (iovecs, paths, result slots), the way compiled C code would.

import { Rights, RIGHTS_ALL } from './constants.js';
import { WasiHost, type WasiOptions, type FsBackend } from './index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export const R_READ = Rights.FD_READ | Rights.FD_SEEK | Rights.FD_TELL | Rights.FD_FILESTAT_GET | Rights.FD_READDIR;
export const R_WRITE = Rights.FD_WRITE | Rights.FD_SEEK | Rights.FD_TELL | Rights.FD_FILESTAT_GET | Rights.FD_FILESTAT_SET_SIZE;
export const R_RW = R_READ | R_WRITE;
export { RIGHTS_ALL };

export interface DirentOut { next: bigint; ino: bigint; type: number; name: string }

export class Guest {
  readonly memory = new WebAssembly.Memory({ initial: 16, maximum: 64 });
  readonly host: WasiHost;
  readonly w: Record<string, (...args: any[]) => any>;
  readonly out: string[] = [];
  readonly err: string[] = [];
  private top = 4096;

  constructor(opts: Partial<WasiOptions> & { backend?: FsBackend }) {
    this.host = new WasiHost({
      args: opts.args ?? ['prog'],
      env: opts.env ?? [],
      preopens: opts.preopens ?? (opts.backend ? [{ guestPath: '/', backend: opts.backend }] : []),
      stdout: (b) => this.out.push(dec.decode(b)),
      stderr: (b) => this.err.push(dec.decode(b)),
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
      ...(opts.clocks ? { clocks: opts.clocks } : {}),
      ...(opts.randomFill ? { randomFill: opts.randomFill } : {}),
    });
    this.host.setMemory(this.memory);
    this.w = this.host.imports();
  }

  get view(): DataView { return new DataView(this.memory.buffer); }
  get bytes(): Uint8Array { return new Uint8Array(this.memory.buffer); }

  alloc(n: number): number {
    const p = this.top;
    this.top = (this.top + n + 7) & ~7;
    if (this.top > this.memory.buffer.byteLength) throw new Error('test heap exhausted');
    return p;
  }
  reset(): void { this.top = 4096; }

  /** Copies s into memory; returns [ptr, len]. */
  str(s: string | Uint8Array): [number, number] {
    const b = typeof s === 'string' ? enc.encode(s) : s;
    const p = this.alloc(b.length + 1);
    this.bytes.set(b, p);
    return [p, b.length];
  }
  u32(p: number): number { return this.view.getUint32(p, true); }
  u64(p: number): bigint { return this.view.getBigUint64(p, true); }
  text(p: number, n: number): string { return dec.decode(this.bytes.slice(p, p + n)); }

  open(path: string, o: { dirfd?: number; oflags?: number; rights?: bigint; fdflags?: number; follow?: boolean } = {}): { errno: number; fd: number } {
    const [pp, pl] = this.str(path);
    const out = this.alloc(4);
    const errno = this.w.path_open!(o.dirfd ?? 3, o.follow === false ? 0 : 1, pp, pl, o.oflags ?? 0, o.rights ?? R_RW, o.rights ?? R_RW, o.fdflags ?? 0, out);
    return { errno, fd: errno === 0 ? this.u32(out) : -1 };
  }

  write(fd: number, ...chunks: string[]): { errno: number; n: number } {
    const iov = this.alloc(8 * chunks.length);
    chunks.forEach((c, i) => {
      const [p, l] = this.str(c);
      this.view.setUint32(iov + 8 * i, p, true);
      this.view.setUint32(iov + 8 * i + 4, l, true);
    });
    const out = this.alloc(4);
    const errno = this.w.fd_write!(fd, iov, chunks.length, out);
    return { errno, n: errno === 0 ? this.u32(out) : -1 };
  }

  pwrite(fd: number, s: string, offset: bigint): { errno: number; n: number } {
    const iov = this.alloc(8);
    const [p, l] = this.str(s);
    this.view.setUint32(iov, p, true);
    this.view.setUint32(iov + 4, l, true);
    const out = this.alloc(4);
    const errno = this.w.fd_pwrite!(fd, iov, 1, offset, out);
    return { errno, n: errno === 0 ? this.u32(out) : -1 };
  }

  read(fd: number, ...sizes: number[]): { errno: number; data: string } {
    const iov = this.alloc(8 * sizes.length);
    const bufs = sizes.map((s, i) => {
      const p = this.alloc(s);
      this.view.setUint32(iov + 8 * i, p, true);
      this.view.setUint32(iov + 8 * i + 4, s, true);
      return p;
    });
    const out = this.alloc(4);
    const errno = this.w.fd_read!(fd, iov, sizes.length, out);
    if (errno !== 0) return { errno, data: '' };
    let n = this.u32(out);
    let data = '';
    bufs.forEach((p, i) => {
      const k = Math.min(n, sizes[i]!);
      data += this.text(p, k);
      n -= k;
    });
    return { errno, data };
  }

  pread(fd: number, size: number, offset: bigint): { errno: number; data: string } {
    const iov = this.alloc(8);
    const p = this.alloc(size);
    this.view.setUint32(iov, p, true);
    this.view.setUint32(iov + 4, size, true);
    const out = this.alloc(4);
    const errno = this.w.fd_pread!(fd, iov, 1, offset, out);
    return { errno, data: errno === 0 ? this.text(p, this.u32(out)) : '' };
  }

  seek(fd: number, offset: bigint, whence: number): { errno: number; pos: bigint } {
    const out = this.alloc(8);
    const errno = this.w.fd_seek!(fd, offset, whence, out);
    return { errno, pos: errno === 0 ? this.u64(out) : -1n };
  }

  tell(fd: number): { errno: number; pos: bigint } {
    const out = this.alloc(8);
    const errno = this.w.fd_tell!(fd, out);
    return { errno, pos: errno === 0 ? this.u64(out) : -1n };
  }

  fdstat(fd: number): { errno: number; filetype: number; flags: number; rightsBase: bigint } {
    const out = this.alloc(24);
    const errno = this.w.fd_fdstat_get!(fd, out);
    return { errno, filetype: this.bytes[out]!, flags: this.view.getUint16(out + 2, true), rightsBase: this.u64(out + 8) };
  }

  private filestatAt(out: number) {
    return {
      dev: this.u64(out), ino: this.u64(out + 8), filetype: this.bytes[out + 16]!, nlink: this.u64(out + 24),
      size: this.u64(out + 32), atim: this.u64(out + 40), mtim: this.u64(out + 48), ctim: this.u64(out + 56),
    };
  }

  filestat(fd: number) {
    const out = this.alloc(64);
    const errno = this.w.fd_filestat_get!(fd, out);
    return { errno, ...this.filestatAt(out) };
  }

  pathStat(path: string, follow = true, dirfd = 3) {
    const [p, l] = this.str(path);
    const out = this.alloc(64);
    const errno = this.w.path_filestat_get!(dirfd, follow ? 1 : 0, p, l, out);
    return { errno, ...this.filestatAt(out) };
  }

  /** Calls a path_* function whose arguments are (dirfd, path, len). */
  pathCall(fn: 'path_create_directory' | 'path_unlink_file' | 'path_remove_directory', path: string, dirfd = 3): number {
    const [p, l] = this.str(path);
    return this.w[fn]!(dirfd, p, l);
  }

  rename(from: string, to: string, fd = 3, toFd = 3): number {
    const [a, al] = this.str(from);
    const [b, bl] = this.str(to);
    return this.w.path_rename!(fd, a, al, toFd, b, bl);
  }

  symlink(target: string, path: string, dirfd = 3): number {
    const [a, al] = this.str(target);
    const [b, bl] = this.str(path);
    return this.w.path_symlink!(a, al, dirfd, b, bl);
  }

  readlink(path: string, bufLen = 256, dirfd = 3): { errno: number; target: string } {
    const [p, l] = this.str(path);
    const buf = this.alloc(bufLen);
    const out = this.alloc(4);
    const errno = this.w.path_readlink!(dirfd, p, l, buf, bufLen, out);
    return { errno, target: errno === 0 ? this.text(buf, this.u32(out)) : '' };
  }

  link(from: string, to: string, follow = false, fd = 3, toFd = 3): number {
    const [a, al] = this.str(from);
    const [b, bl] = this.str(to);
    return this.w.path_link!(fd, follow ? 1 : 0, a, al, toFd, b, bl);
  }

  /** One fd_readdir call; returns the raw used count and the complete entries parsed from the buffer. */
  readdir(fd: number, cookie: bigint, bufLen = 4096): { errno: number; used: number; entries: DirentOut[] } {
    const buf = this.alloc(bufLen);
    const out = this.alloc(4);
    const errno = this.w.fd_readdir!(fd, buf, bufLen, cookie, out);
    if (errno !== 0) return { errno, used: 0, entries: [] };
    const used = this.u32(out);
    const entries: DirentOut[] = [];
    let p = 0;
    while (p + 24 <= used) {
      const namlen = this.view.getUint32(buf + p + 16, true);
      if (p + 24 + namlen > used) break;
      entries.push({
        next: this.u64(buf + p), ino: this.u64(buf + p + 8), type: this.bytes[buf + p + 20]!,
        name: this.text(buf + p + 24, namlen),
      });
      p += 24 + namlen;
    }
    return { errno, used, entries };
  }

  /** All entry names, reading with the given buffer size and following cookies as libc does. */
  listDir(fd: number, bufLen = 4096): string[] {
    const names: string[] = [];
    let cookie = 0n;
    for (;;) {
      const r = this.readdir(fd, cookie, bufLen);
      if (r.errno !== 0) throw new Error(`readdir errno ${r.errno}`);
      for (const e of r.entries) { names.push(e.name); cookie = e.next; }
      if (r.used < bufLen) return names;
    }
  }

  close(fd: number): number { return this.w.fd_close!(fd); }
}
