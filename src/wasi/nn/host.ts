// NnHost: wasi-nn and kafu_helper as the runtime sees them — their import modules for an instance, and the
// wasi-nn state a migration carries (graphs, contexts, and the models the destination lacks).
import { GuestMemory } from '../guest-memory.js';
import { createHelperImports, type HelperOptions } from '../helper/abi.js';
import { createNnImports, type NnLog } from './abi.js';
import { NnOs } from './nn-os.js';
import type { NnState } from './state.js';
import type { NnOptions } from './types.js';

export const NN_MODULE = 'wasi_ephemeral_nn';
export const HELPER_MODULE = 'kafu_helper';

export interface NnHostOptions extends NnOptions {
  helper: HelperOptions;
  /** Told why a call failed (the guest only sees the error code). */
  log?: NnLog;
}

export class NnHost {
  private memory: WebAssembly.Memory | null = null;
  private readonly os: NnOs;
  private readonly guest = new GuestMemory(() => {
    if (!this.memory) throw new Error('NnHost.setMemory was not called before the guest used wasi-nn');
    return this.memory;
  });

  constructor(private readonly options: NnHostOptions) {
    this.os = new NnOs(options);
  }

  setMemory(memory: WebAssembly.Memory): void {
    this.memory = memory;
  }

  /** The `wasi_ephemeral_nn` and `kafu_helper` import modules. */
  importModules(): Record<string, Record<string, (...args: number[]) => number>> {
    const log = this.options.log ?? (() => {});
    return {
      [NN_MODULE]: createNnImports(this.os, this.guest, log),
      [HELPER_MODULE]: createHelperImports(this.guest, this.options.helper, log),
    };
  }

  depart(to: string, blobs: Uint8Array[]): NnState {
    return this.os.depart(to, blobs);
  }

  /** `raw` straight from a snapshot: checked here. Throws an Error naming the problem. */
  arrive(raw: unknown, blobs: readonly Uint8Array[]): void {
    this.os.arrive(raw, blobs);
  }
}
