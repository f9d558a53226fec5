// WasiHost: the library OS as the runtime sees it — imports for an instance, and its whole state as JSON.

import { createImports, WasiExit } from './abi.js';
import { GuestMemory } from './guest-memory.js';
import type { WasiOptions } from './options.js';
import type { WasiState } from './state.js';
import { WasiOs } from './wasi-os.js';

export class WasiHost {
  private memory: WebAssembly.Memory | null = null;
  private readonly os: WasiOs;
  private readonly guest = new GuestMemory(() => {
    if (!this.memory) throw new Error('WasiHost.setMemory was not called before the guest used WASI');
    return this.memory;
  });

  constructor(options: WasiOptions) {
    this.os = new WasiOs(options);
  }

  /** Call after every (re)instantiation; the memory may grow at any time, so it is re-read on every call. */
  setMemory(memory: WebAssembly.Memory): void {
    this.memory = memory;
  }

  /** The `wasi_snapshot_preview1` import object. */
  imports(): Record<string, (...args: any[]) => any> {
    return createImports(this.os, this.guest);
  }

  /** Plain JSON state: fd table, args/env, preopen names, monotonic clock. Throws if migrationBlocker() is set. */
  exportState(): WasiState {
    return this.os.exportState();
  }

  /**
   * Restore a state exported by a host built with equivalent options (plain JSON, hostile until checked); reopens
   * files. All or nothing: throws StateRefused, naming the field or the fd and path.
   */
  importState(state: unknown): void {
    this.os.importState(state);
  }

  /** Close every host handle once the program has moved on or ended; the host is unusable afterwards. */
  release(): void {
    this.os.release();
  }

  /** A whole file of the program's mounts, by guest path, with the program's sandbox (see WasiOs.readFile). */
  readFile(guestPath: string, maxBytes: number): Uint8Array {
    return this.os.readFile(guestPath, maxBytes);
  }

  /**
   * Host-side output to the program's standard output (its fd 1, wherever that is now), for host modules that
   * print (spectest); quietly dropped when fd 1 is closed, as a write the program never sees.
   */
  writeStdout(data: Uint8Array): void {
    try {
      let done = 0;
      while (done < data.length) {
        const n = this.os.get(1).write(data.subarray(done));
        if (n <= 0) return;
        done += n;
      }
    } catch {
      // fd 1 closed or not writable
    }
  }

  /** A held resource that cannot travel ("fd 5: ..."), or null. */
  migrationBlocker(): string | null {
    return this.os.migrationBlocker();
  }
}

export { WasiExit };
