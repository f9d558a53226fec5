// Standard input, output and error: streams bound to callbacks of the host that runs the guest. Their state
// is just their kind; after a migration they bind to the new host's callbacks.

import { Filetype, Rights } from './constants.js';
import { Descriptor, scatter, type DescriptorState, type Fdstat, type Filestat } from './descriptor.js';
import { Errno, WasiError } from './errno.js';

const espipe = (): never => {
  throw new WasiError(Errno.SPIPE);
};

const ttyStat: Filestat = {
  dev: 0n, ino: 0n, filetype: Filetype.CHARACTER_DEVICE, nlink: 0n, size: 0n, atim: 0n, mtim: 0n, ctim: 0n,
};

export class StdinDescriptor extends Descriptor {
  readonly kind = 'stdin';
  constructor(private readonly source: ((maxBytes: number) => Uint8Array | null) | undefined) {
    super();
  }

  fdstat(): Fdstat {
    return { filetype: Filetype.CHARACTER_DEVICE, flags: 0, rightsBase: Rights.FD_READ, rightsInheriting: Rights.FD_READ };
  }
  filestat(): Filestat { return { ...ttyStat }; }
  exportState(): DescriptorState { return { kind: 'stdin' }; }

  override read(bufs: Uint8Array[]): number {
    const total = bufs.reduce((n, b) => n + b.length, 0);
    if (total === 0 || !this.source) return 0;
    const data = this.source(total);
    if (!data || data.length === 0) return 0;
    return scatter(data, bufs, total, 'stdin callback');
  }
  override pread(): number { return espipe(); }
  override seek(): bigint { return espipe(); }
  override tell(): bigint { return espipe(); }
  override pollReadable(): { nbytes: bigint; hangup: boolean } { return { nbytes: 1n, hangup: false }; }
}

export class OutputDescriptor extends Descriptor {
  constructor(readonly kind: 'stdout' | 'stderr', private readonly sink: (bytes: Uint8Array) => void) {
    super();
  }

  fdstat(): Fdstat {
    return { filetype: Filetype.CHARACTER_DEVICE, flags: 0, rightsBase: Rights.FD_WRITE, rightsInheriting: Rights.FD_WRITE };
  }
  filestat(): Filestat { return { ...ttyStat }; }
  exportState(): DescriptorState { return { kind: this.kind }; }

  override write(data: Uint8Array): number {
    if (data.length > 0) this.sink(data.slice());
    return data.length;
  }
  override pwrite(): number { return espipe(); }
  override seek(): bigint { return espipe(); }
  override tell(): bigint { return espipe(); }
  override pollWritable(): { nbytes: bigint } { return { nbytes: 1n }; }
}
