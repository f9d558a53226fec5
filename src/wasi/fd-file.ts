// A regular file opened through a preopen. The host handle is not part of the state: the file is named by
// (preopen index, path within the preopen) and reopened on import; the offset and flags are ours, so every
// read and write is positional on the backend and the offset travels exactly.

import { Fdflags, Rights, RIGHTS_ALL, Whence } from './constants.js';
import { Descriptor, filestatOf, narrowRights, type DescriptorState, type Fdstat, type Filestat, type Mount } from './descriptor.js';
import { Errno, WasiError } from './errno.js';
import type { FsHandle } from './fs-backend.js';

/** The largest file offset (Linux's loff_t is signed): a guest's u64 at or past 2^63 is a negative one there. */
const MAX_OFFSET = (1n << 63n) - 1n;

/** As Linux: an offset a signed 64-bit loff_t cannot hold is EINVAL, never wrapped or clamped. */
function checkOffset(offset: bigint, what: string): void {
  if (offset < 0n || offset > MAX_OFFSET) throw new WasiError(Errno.INVAL, `${what} ${offset} is past 2^63 - 1`);
}

/** The rights of a file opened for `read` and/or `write`: as wasmtime, every right, less those the mode does not give. */
export function fileRights(read: boolean, write: boolean): bigint {
  let rights = RIGHTS_ALL;
  if (!read) rights &= ~(Rights.FD_READ | Rights.FD_READDIR);
  if (!write) rights &= ~Rights.FD_WRITE;
  return rights;
}

export interface FileOpenState {
  read: boolean;
  write: boolean;
  fdflags: number;
  offset: bigint;
  rightsBase: bigint;
  rightsInheriting: bigint;
}

export class FileDescriptor extends Descriptor {
  readonly kind = 'file';
  private position: bigint;
  private fdflags: number;
  readonly canRead: boolean;
  readonly canWrite: boolean;
  /** The rights it holds: those of its open mode, less any the program dropped (fd_fdstat_set_rights). */
  private rightsBase: bigint;
  private rightsInheriting: bigint;
  private closed = false;

  constructor(readonly mount: Mount, public path: string, private readonly handle: FsHandle, s: FileOpenState) {
    super();
    this.canRead = s.read;
    this.canWrite = s.write;
    this.fdflags = s.fdflags;
    this.position = s.offset;
    this.rightsBase = s.rightsBase;
    this.rightsInheriting = s.rightsInheriting;
  }

  private get backend() { return this.mount.backend; }
  private get append(): boolean { return (this.fdflags & Fdflags.APPEND) !== 0; }

  private needRead(): void {
    if (!this.canRead) throw new WasiError(Errno.BADF, 'file not open for reading');
    this.need(Rights.FD_READ);
  }
  private needWrite(): void {
    if (!this.canWrite) throw new WasiError(Errno.BADF, 'file not open for writing');
    this.need(Rights.FD_WRITE);
  }
  private need(right: bigint): void {
    if ((this.rights()[0] & right) !== right) throw new WasiError(Errno.NOTCAPABLE, 'a right this descriptor was given up');
  }

  /** Base and inheriting rights: never more than the open mode gives (a state from an older snapshot may say more). */
  private rights(): [bigint, bigint] {
    const mode = fileRights(this.canRead, this.canWrite);
    return [this.rightsBase & mode, this.rightsInheriting & mode];
  }

  fdstat(): Fdstat {
    const [rightsBase, rightsInheriting] = this.rights();
    const st = this.backend.fstat(this.handle);
    return {
      filetype: filestatOf(st).filetype,
      flags: this.fdflags & (Fdflags.APPEND | Fdflags.NONBLOCK | Fdflags.DSYNC | Fdflags.RSYNC | Fdflags.SYNC),
      rightsBase,
      rightsInheriting,
    };
  }

  override setRights(base: bigint, inheriting: bigint): void {
    const [nowBase, nowInheriting] = this.rights();
    [this.rightsBase, this.rightsInheriting] = [narrowRights(nowBase, base), narrowRights(nowInheriting, inheriting)];
  }

  filestat(): Filestat { return this.mount.times.apply(this.path, filestatOf(this.backend.fstat(this.handle))); }

  private readAt(bufs: Uint8Array[], pos: bigint): number {
    let total = 0;
    for (const b of bufs) {
      if (b.length === 0) continue;
      const n = this.backend.pread(this.handle, b, pos + BigInt(total));
      total += n;
      if (n < b.length) break;
    }
    return total;
  }

  override read(bufs: Uint8Array[]): number {
    this.needRead();
    const n = this.readAt(bufs, this.position);
    this.position += BigInt(n);
    return n;
  }

  override pread(bufs: Uint8Array[], offset: bigint): number {
    this.needRead();
    this.need(Rights.FD_SEEK);
    checkOffset(offset, 'read offset');
    return this.readAt(bufs, offset);
  }

  private writeAt(data: Uint8Array, pos: bigint): number {
    // As Linux: a write that starts at the largest offset or past it is EFBIG, with nothing written (a backend
    // refuses with EFBIG what it cannot reach below that).
    if (data.length > 0 && pos >= MAX_OFFSET) throw new WasiError(Errno.FBIG, `write at ${pos}: past the largest file size`);
    let done = 0;
    while (done < data.length) {
      const n = this.backend.pwrite(this.handle, data.subarray(done), pos + BigInt(done));
      if (n <= 0) break;
      done += n;
    }
    return done;
  }

  override write(data: Uint8Array): number {
    this.needWrite();
    if (this.append) {
      // Every append goes to the end as it is now, so two writers (two hosts) interleave, never overwrite.
      const n = this.writeAt(data, this.backend.fstat(this.handle).size);
      this.position = this.backend.fstat(this.handle).size;
      return n;
    }
    const n = this.writeAt(data, this.position);
    this.position += BigInt(n);
    return n;
  }

  override pwrite(data: Uint8Array, offset: bigint): number {
    this.needWrite();
    this.need(Rights.FD_SEEK);
    checkOffset(offset, 'write offset');
    // Linux semantics, as wasmtime: with O_APPEND the offset is ignored.
    return this.writeAt(data, this.append ? this.backend.fstat(this.handle).size : offset);
  }

  override seek(offset: bigint, whence: number): bigint {
    // As the WASI rights model: lseek(fd, 0, SEEK_CUR) is a tell.
    this.need(whence === Whence.CUR && offset === 0n ? Rights.FD_TELL : Rights.FD_SEEK);
    let pos: bigint;
    switch (whence) {
      case Whence.SET: pos = offset; break;
      case Whence.CUR: pos = this.position + offset; break;
      case Whence.END: pos = this.backend.fstat(this.handle).size + offset; break;
      default: throw new WasiError(Errno.INVAL, `bad whence ${whence}`);
    }
    if (pos < 0n || pos > MAX_OFFSET) throw new WasiError(Errno.INVAL, 'seek out of range');
    this.position = pos;
    return pos;
  }

  override tell(): bigint {
    this.need(Rights.FD_TELL);
    return this.position;
  }

  override setFlags(flags: number): void {
    if (flags & (Fdflags.DSYNC | Fdflags.SYNC | Fdflags.RSYNC)) throw new WasiError(Errno.INVAL, 'sync flags cannot change');
    this.fdflags = (this.fdflags & ~(Fdflags.APPEND | Fdflags.NONBLOCK)) | (flags & (Fdflags.APPEND | Fdflags.NONBLOCK));
  }

  override setSize(size: bigint): void {
    this.needWrite();
    this.need(Rights.FD_FILESTAT_SET_SIZE);
    checkOffset(size, 'size');
    this.backend.ftruncate(this.handle, size);
  }

  override setTimes(atim: bigint | null, mtim: bigint | null): void {
    this.backend.futimes(this.handle, atim, mtim);
    this.mount.times.set(this.path, atim, mtim, filestatOf(this.backend.fstat(this.handle)));
  }

  override sync(dataOnly: boolean): void {
    if (dataOnly) this.backend.fdatasync(this.handle);
    else this.backend.fsync(this.handle);
  }

  override advise(offset: bigint, len: bigint, advice: number): void {
    // posix_fadvise takes signed offsets and lengths: at or past 2^63 they are EINVAL there (and in wasmtime).
    checkOffset(offset, 'advise offset');
    checkOffset(len, 'advise length');
    if (advice < 0 || advice > 5) throw new WasiError(Errno.INVAL, `bad advice ${advice}`);
  }

  override allocate(): void {
    throw new WasiError(Errno.NOTSUP, 'fd_allocate is not supported (as in wasmtime)');
  }

  override pollReadable(): { nbytes: bigint; hangup: boolean } {
    const size = this.backend.fstat(this.handle).size;
    const left = size > this.position ? size - this.position : 0n;
    return { nbytes: left, hangup: left === 0n };
  }

  override pollWritable(): { nbytes: bigint } { return { nbytes: 1n }; }

  override close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backend.close(this.handle);
  }

  override migrationBlocker(): string | null {
    // The file travels by name: the name must still lead to this very file.
    try {
      const byName = this.backend.lstat(this.path);
      const byHandle = this.backend.fstat(this.handle);
      if (byName.kind !== 'file' || byName.ino !== byHandle.ino || byName.dev !== byHandle.dev) {
        return `open file "${this.path}" was replaced or moved outside the guest's view`;
      }
      return null;
    } catch {
      return `open file "${this.path}" was deleted while open`;
    }
  }

  exportState(): DescriptorState {
    return {
      kind: 'file', preopen: this.mount.index, path: this.path, offset: this.position.toString(),
      fdflags: this.fdflags, read: this.canRead, write: this.canWrite,
      rightsBase: this.rightsBase.toString(), rightsInheriting: this.rightsInheriting.toString(),
    };
  }
}
