// A directory: a preopen's own descriptor or one the guest opened. Named by (preopen index, path within the
// preopen); it holds no host handle, so it travels as plain data. Its path is the capability root for
// path_* calls made through it.

import { Filetype, PREOPEN_RIGHTS_BASE, PREOPEN_RIGHTS_INHERITING, Rights, RIGHTS_ALL } from './constants.js';
import { Descriptor, filestatOf, filetypeOf, narrowRights, type DescriptorState, type Fdstat, type Filestat, type Mount } from './descriptor.js';
import { Errno, WasiError } from './errno.js';
import { splitPath } from './fs-backend.js';

/** Rights that only make sense on a file, which a directory descriptor does not hold. */
const NOT_DIRECTORY_RIGHTS =
  Rights.FD_READ | Rights.FD_SEEK | Rights.FD_WRITE | Rights.FD_FILESTAT_SET_SIZE | Rights.PATH_FILESTAT_SET_SIZE;

export interface DirEntry {
  name: string;
  ino: bigint;
  filetype: number;
}

export class DirectoryDescriptor extends Descriptor {
  readonly kind = 'directory';
  /** Cookie after the last entry handed out; informational (fd_readdir is driven by the guest's cookie). */
  cursor = 0n;

  /**
   * @param rightsBase, rightsInheriting  for a directory opened with path_open: the rights the guest asked
   *   for, already bounded by the parent's inheriting rights (WasiOs.pathOpen). A preopen has wasmtime's.
   */
  constructor(
    readonly mount: Mount,
    public path: string,
    readonly preopenName: string | null,
    private rightsBase: bigint = preopenName !== null ? PREOPEN_RIGHTS_BASE : RIGHTS_ALL,
    private rightsInheriting: bigint = preopenName !== null ? PREOPEN_RIGHTS_INHERITING : RIGHTS_ALL,
  ) {
    super();
  }

  get parts(): string[] { return splitPath(this.path); }
  private get backend() { return this.mount.backend; }

  /**
   * The rights this directory has and passes on. wasi-libc's openat() asks for (what the open mode wants) &
   * (the directory's inheriting rights), so the inheriting rights must keep the file rights (FD_WRITE, FD_SEEK,
   * FD_FILESTAT_SET_SIZE ...) or files opened under it lose them. As wasmtime: a preopen passes on every file
   * and directory right; a directory the guest opened passes on what it asked for, bounded by its parent's.
   */
  fdstat(): Fdstat {
    // A directory is never read, written, sought or sized as a file: it does not hold those rights itself (as a
    // preopen, and wasmtime's directories, do not), though it passes them on to files opened under it.
    return {
      filetype: Filetype.DIRECTORY,
      flags: 0,
      rightsBase: this.rightsBase & ~NOT_DIRECTORY_RIGHTS,
      rightsInheriting: this.rightsInheriting,
    };
  }

  override setRights(base: bigint, inheriting: bigint): void {
    const now = this.fdstat();
    [this.rightsBase, this.rightsInheriting] = [narrowRights(now.rightsBase, base), narrowRights(now.rightsInheriting, inheriting)];
  }

  /** ENOTCAPABLE unless this directory holds `right` (PATH_OPEN for path_open, FD_READDIR for fd_readdir). */
  need(right: bigint): void {
    if ((this.fdstat().rightsBase & right) !== right) throw new WasiError(Errno.NOTCAPABLE, 'a right this directory was given up');
  }

  filestat(): Filestat { return this.mount.times.apply(this.path, filestatOf(this.backend.lstat(this.path))); }

  override setTimes(atim: bigint | null, mtim: bigint | null): void {
    this.backend.utimes(this.path, atim, mtim, true);
    this.mount.times.set(this.path, atim, mtim, filestatOf(this.backend.lstat(this.path)));
  }

  /**
   * Names as listed at the last rewind (cookie 0), in cookie order: cookie i + 3 follows names[i]. Part of the
   * exported state, so that a listing continued by cookie on another node goes on over the same names even if
   * entries were added or removed meanwhile (re-listing there would shift the cookies). Only names travel; each
   * entry is stat-ed when it is handed out. null until the first fd_readdir.
   */
  listing: string[] | null = null;

  /** How many entries there are (".", "..", then the names), listing afresh when cookie is 0. */
  count(cookie: bigint): number {
    if (cookie === 0n || this.listing === null) {
      this.listing = this.backend.readdir(this.path).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    }
    return this.listing.length + 2;
  }

  /**
   * Entry i of ".", "..", then the entries in name order (stable across hosts, so cookies stay
   * meaningful after a migration). Call count() first. Only returned entries are stat-ed.
   */
  entry(i: number): DirEntry {
    if (i < 2) {
      return { name: i === 0 ? '.' : '..', ino: this.backend.lstat(this.path).ino, filetype: Filetype.DIRECTORY };
    }
    const name = this.listing![i - 2]!;
    try {
      const st = this.backend.lstat(this.path === '' ? name : `${this.path}/${name}`);
      return { name, ino: st.ino, filetype: filetypeOf(st.kind) };
    } catch {
      return { name, ino: 0n, filetype: Filetype.UNKNOWN };
    }
  }

  override migrationBlocker(): string | null {
    try {
      if (this.backend.lstat(this.path).kind === 'directory') return null;
    } catch { /* fall through */ }
    return `open directory "${this.path}" no longer exists`;
  }

  exportState(): DescriptorState {
    return {
      kind: 'directory', preopen: this.mount.index, path: this.path, preopenName: this.preopenName,
      rightsBase: this.rightsBase.toString(), rightsInheriting: this.rightsInheriting.toString(),
      cursor: this.cursor.toString(), listing: this.listing === null ? null : [...this.listing],
    };
  }
}
