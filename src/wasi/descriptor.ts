// The descriptor kinds' common interface. Each kind (stdio, regular file, directory) is one object that
// implements the operations it supports and exports/imports its own state; the ABI layer never looks inside.

import { Errno, WasiError } from './errno.js';
import type { ExactTimes } from './exact-times.js';
import type { FsBackend, FsStat } from './fs-backend.js';
import type { DescriptorState } from './state.js';

export interface Filestat {
  dev: bigint;
  ino: bigint;
  filetype: number;
  nlink: bigint;
  size: bigint;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

export interface Fdstat {
  filetype: number;
  flags: number;
  rightsBase: bigint;
  rightsInheriting: bigint;
}

export type { DescriptorState } from './state.js';

/** A filesystem a descriptor lives in: its index in WasiOptions.preopens, and that preopen's backend. */
export interface Mount {
  index: number;
  guestPath: string;
  backend: FsBackend;
  /** The file times the program set in this mount, to the nanosecond (see exact-times.ts). */
  times: ExactTimes;
}

const ebadf = (): never => {
  throw new WasiError(Errno.BADF);
};

export abstract class Descriptor {
  abstract readonly kind: DescriptorState['kind'];
  abstract fdstat(): Fdstat;
  abstract filestat(): Filestat;
  abstract exportState(): DescriptorState;

  /** Read into bufs in order, at the current position; returns bytes read. */
  read(_bufs: Uint8Array[]): number { return ebadf(); }
  write(_data: Uint8Array): number { return ebadf(); }
  pread(_bufs: Uint8Array[], _offset: bigint): number { return ebadf(); }
  pwrite(_data: Uint8Array, _offset: bigint): number { return ebadf(); }
  seek(_offset: bigint, _whence: number): bigint { return ebadf(); }
  tell(): bigint { return ebadf(); }
  setFlags(_flags: number): void { ebadf(); }
  /** fd_fdstat_set_rights: keep only these rights (narrowRights); stdio has none to change (EBADF, as wasmtime). */
  setRights(_base: bigint, _inheriting: bigint): void { ebadf(); }
  setSize(_size: bigint): void { ebadf(); }
  setTimes(_atim: bigint | null, _mtim: bigint | null): void { ebadf(); }
  sync(_dataOnly: boolean): void { ebadf(); }
  advise(_offset: bigint, _len: bigint, _advice: number): void { ebadf(); }
  allocate(_offset: bigint, _len: bigint): void { ebadf(); }
  /** Whether a poll for reading/writing is ready now, and the byte count to report. */
  pollReadable(): { nbytes: bigint; hangup: boolean } { return ebadf(); }
  pollWritable(): { nbytes: bigint } { return ebadf(); }
  /** fd_close: release host resources. */
  close(): void {}
  /**
   * The program leaves this host (its state was exported) or ended: drop this host's handles. Most kinds close
   * them; a socket's host socket outlives the stretch of the program on one node (fd-socket.ts).
   */
  release(): void {
    this.close();
  }
  /** Why this descriptor cannot be exported, or null. */
  migrationBlocker(): string | null { return null; }
}

/** `wanted` as a descriptor's new rights, where it holds `held`: rights can only be dropped, never gained. */
export function narrowRights(held: bigint, wanted: bigint): bigint {
  if ((wanted & ~held) !== 0n) throw new WasiError(Errno.NOTCAPABLE, 'fd_fdstat_set_rights cannot add rights');
  return wanted;
}

/**
 * `data`, which a stream's source handed back for a read of at most `total` bytes, spread over `bufs` in order; the
 * byte count. More than asked is the source's bug, refused as ERANGE.
 */
export function scatter(data: Uint8Array, bufs: Uint8Array[], total: number, source: string): number {
  if (data.length > total) throw new WasiError(Errno.RANGE, `${source} returned more than asked`);
  let off = 0;
  for (const b of bufs) {
    if (off >= data.length) break;
    const n = Math.min(b.length, data.length - off);
    b.set(data.subarray(off, off + n));
    off += n;
  }
  return data.length;
}

export function filetypeOf(kind: FsStat['kind']): number {
  switch (kind) {
    case 'file': return 4;
    case 'directory': return 3;
    case 'symlink': return 7;
    case 'chardev': return 2;
    case 'blockdev': return 1;
    case 'socket': return 6;
    default: return 0;
  }
}

export function filestatOf(st: FsStat): Filestat {
  return {
    dev: st.dev, ino: st.ino, filetype: filetypeOf(st.kind), nlink: st.nlink, size: st.size,
    atim: st.atimNs, mtim: st.mtimNs, ctim: st.ctimNs,
  };
}
