// The descriptor table: fd number -> descriptor. New descriptors take the lowest free number, as wasmtime.

import type { Descriptor } from './descriptor.js';
import { Errno, WasiError } from './errno.js';

export class FdTable {
  private readonly fds = new Map<number, Descriptor>();

  get(fd: number): Descriptor {
    const d = this.fds.get(fd);
    if (!d) throw new WasiError(Errno.BADF, `fd ${fd} is not open`);
    return d;
  }

  has(fd: number): boolean { return this.fds.has(fd); }

  insert(d: Descriptor): number {
    let fd = 0;
    while (this.fds.has(fd)) fd++;
    this.fds.set(fd, d);
    return fd;
  }

  set(fd: number, d: Descriptor): void { this.fds.set(fd, d); }

  remove(fd: number): Descriptor {
    const d = this.get(fd);
    this.fds.delete(fd);
    return d;
  }

  entries(): Array<[number, Descriptor]> {
    return [...this.fds.entries()].sort((a, b) => a[0] - b[0]);
  }

  clear(): void { this.fds.clear(); }
}
