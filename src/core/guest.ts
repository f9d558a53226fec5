// Instance lifecycle of an instrumented program: start it, suspend it at a migration point, capture its state,
// and resume captured state in a fresh instance. Engine-neutral (standard WebAssembly JS API only).
import { UserError } from './errors.js';
import { readFrameBounds, requireMetadata, MIGRATION_IMPORT, type KafuMetadata, type MigrationPoint } from './metadata.js';
import type { Migration } from './migration-stack.js';
import { PAGE_SIZE, memoryImage, type GlobalValue, type MemoryImage } from './snapshot.js';
import { ensureUnwindArea, resetUnwindHeader, unwindBytesNeeded, type UnwindArea } from './unwind-area.js';

/** The library OS seen from the core: something that provides imports and needs the memory. */
export interface GuestSystem {
  setMemory(memory: WebAssembly.Memory): void;
  imports(): Record<string, (...args: never[]) => unknown>;
  /** More host modules (wasi_ephemeral_nn, kafu_helper); with system-call points their calls are points too. */
  importModules?(): Record<string, Record<string, (...args: never[]) => unknown>>;
}

export class GuestModule {
  private constructor(
    readonly module: WebAssembly.Module,
    readonly meta: KafuMetadata,
    readonly frameBounds: Uint32Array,
    readonly sha256: string,
    readonly byteLength: number,
  ) {}

  /** `where` names the module in errors (a path or URL). */
  static async load(bytes: Uint8Array, where: string): Promise<GuestModule> {
    const meta = requireMetadata(bytes, where);
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    } catch (e) {
      throw new UserError(`${where}: not a module this engine accepts: ${(e as Error).message}`);
    }
    checkExports(module, meta, where);
    return new GuestModule(module, meta, readFrameBounds(bytes), await sha256Hex(bytes), bytes.byteLength);
  }
}

/** What the runtime calls and reads in an instance must be there, of the right kind, before anything runs. */
function checkExports(module: WebAssembly.Module, meta: KafuMetadata, where: string): void {
  const kinds = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  // A module with no migration point (and no system-call points) never suspends: it has no Asyncify exports.
  const suspends = meta.points.length > 0 || meta.systemCallPoints;
  const want: [string, string][] = [
    ['memory', 'memory'],
    ['_start', 'function'],
    ...(suspends ? ['asyncify_start_unwind', 'asyncify_stop_unwind', 'asyncify_start_rewind', 'asyncify_stop_rewind', 'asyncify_get_state'] : []).map(
      (n): [string, string] => [n, 'function'],
    ),
    ...meta.globals.map(({ name }): [string, string] => [name, 'global']),
  ];
  const missing = want.filter(([name, kind]) => kinds.get(name) !== kind);
  if (missing.length > 0) {
    throw new UserError(
      `${where}: does not export what kafu clang's instrumentation does (${missing.slice(0, 3).map(([n, k]) => `${k} ${n}`).join(', ')}` +
        `${missing.length > 3 ? ', …' : ''}); rebuild it with \`kafu clang\``,
    );
  }
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * State of a suspended program, as captured right after Asyncify unwound it. `memory` is a view of the dead
 * instance's memory (nothing runs in it any more, so no copy is needed) when captured, and the snapshot's sparse
 * image when resuming.
 */
export interface CapturedState {
  memory: MemoryImage;
  globals: GlobalValue[];
  unwindArea: UnwindArea;
  /** Return value of the WASI call the program was suspended after, if it was. */
  resumeValue?: number;
}

export type RunOutcome =
  | { kind: 'exited'; code: number }
  /** `suspendedAt`: performance.now() when the program stopped running (start of the unwind). */
  | { kind: 'suspended'; migration: Migration; state: CapturedState; suspendedAt: number };

export interface GuestOptions {
  system: GuestSystem;
  /** Called at each migration point; returns the migration to perform, if any. May throw to refuse. */
  decide: (point: MigrationPoint, kind: number) => Migration | undefined;
  /** Exit code carried by an exception the system throws for proc_exit, else undefined. */
  exitCode: (error: unknown) => number | undefined;
  /** Called once a resumed program has rewound its stack and runs again. */
  onResumed?: () => void;
  /** Modules built with system-call points only: called after each WASI call; returns a migration to force. */
  afterSystemCall?: (name: string) => Migration | undefined;
}

interface AsyncifyExports {
  memory: WebAssembly.Memory;
  _start: () => void;
  asyncify_start_unwind: (ptr: number) => void;
  asyncify_stop_unwind: () => void;
  asyncify_start_rewind: (ptr: number) => void;
  asyncify_stop_rewind: () => void;
  asyncify_get_state: () => number;
}

const REWINDING = 2;

/** One instance of the program. Each resume builds a new one: nothing carries over but the captured state. */
export class GuestInstance {
  private readonly exports: AsyncifyExports & Record<string, unknown>;
  private unwindArea: UnwindArea | undefined;
  private pending: Migration | undefined;
  private resumeValue: number | undefined;
  private suspendedAt = 0;

  constructor(
    private readonly guest: GuestModule,
    private readonly options: GuestOptions,
  ) {
    const calls = (fns: Record<string, (...args: never[]) => unknown>) =>
      (guest.meta.systemCallPoints ? this.suspendableSystemCalls(fns) : fns) as WebAssembly.ModuleImports;
    const more = Object.entries(options.system.importModules?.() ?? {}).map(([m, fns]) => [m, calls(fns)] as const);
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(guest.module, {
        ...Object.fromEntries(more),
        wasi_snapshot_preview1: calls(options.system.imports()),
        [MIGRATION_IMPORT.module]: { [MIGRATION_IMPORT.name]: (id: number, kind: number) => this.migrationPoint(id, kind) },
      });
    } catch (e) {
      // A LinkError or TypeError (an import the runtime does not provide) or a data segment that does not fit (a
      // RuntimeError): the module's fault, not the runtime's.
      if (e instanceof WebAssembly.LinkError || e instanceof WebAssembly.RuntimeError || e instanceof TypeError) {
        throw new UserError(`the module cannot be instantiated: ${e.message}`);
      }
      throw e;
    }
    this.exports = instance.exports as unknown as AsyncifyExports & Record<string, unknown>;
    options.system.setMemory(this.exports.memory);
  }

  /** Run the program from its beginning. */
  start(): RunOutcome {
    return this.enter();
  }

  /** Load captured state into this fresh instance and continue where the program stopped. */
  resume(state: CapturedState): RunOutcome {
    const memory = this.exports.memory;
    const initial = memory.buffer.byteLength;
    const missing = state.memory.byteLength - initial;
    if (missing < 0) throw new Error('kafu: snapshot memory is smaller than the module\'s initial memory');
    if (missing > 0) memory.grow(missing / PAGE_SIZE);
    // The fresh instance's data segments are live in its initial memory: clear what the snapshot has as zero pages
    // there. Grown memory is zero already (and stays untouched, so the system need not back it).
    const view = new Uint8Array(memory.buffer);
    const clear = (from: number, to: number) => from < initial && view.fill(0, from, Math.min(to, initial));
    let next = 0;
    for (const { index, data } of state.memory.pages) {
      if (index > next) clear(next * PAGE_SIZE, index * PAGE_SIZE);
      view.set(data, index * PAGE_SIZE);
      next = index + 1;
    }
    clear(next * PAGE_SIZE, initial);
    const globals = this.guest.meta.globals;
    if (globals.length !== state.globals.length) throw new Error('kafu: snapshot global count does not match the module');
    globals.forEach(({ name }, i) => {
      const g = this.exports[name] as WebAssembly.Global;
      const saved = state.globals[i]!;
      g.value = saved.type === 'i64' ? BigInt(saved.value) : saved.value;
    });
    this.unwindArea = state.unwindArea;
    this.resumeValue = state.resumeValue;
    this.exports.asyncify_start_rewind(state.unwindArea.ptr);
    return this.enter();
  }

  private enter(): RunOutcome {
    try {
      this.exports._start();
    } catch (e) {
      const code = this.options.exitCode(e);
      if (code === undefined) throw e;
      return { kind: 'exited', code };
    }
    const migration = this.pending;
    if (!migration) return { kind: 'exited', code: 0 };
    this.pending = undefined;
    this.exports.asyncify_stop_unwind();
    return { kind: 'suspended', migration, state: this.capture(), suspendedAt: this.suspendedAt };
  }

  private migrationPoint(id: number, kind: number): void {
    const ex = this.exports;
    if (ex.asyncify_get_state() === REWINDING) {
      // Resumed: this is the call that suspended on the previous node; carry on from here.
      ex.asyncify_stop_rewind();
      this.options.onResumed?.();
      return;
    }
    const point = this.guest.meta.points[id];
    if (!point) throw new UserError(`the module reached migration point ${id}, which its kafu.meta does not list; rebuild it with \`kafu clang\``);
    const migration = this.options.decide(point, kind);
    if (migration) this.suspend(migration);
  }

  /** Start unwinding into the unwind area; `_start` returns once the whole stack is saved. */
  private suspend(migration: Migration, resumeValue?: number): void {
    const ex = this.exports;
    const needed = unwindBytesNeeded(this.guest.frameBounds, this.guest.meta.importedFunctions);
    this.unwindArea = ensureUnwindArea(ex.memory, this.unwindArea, needed);
    resetUnwindHeader(ex.memory, this.unwindArea);
    this.pending = migration;
    this.resumeValue = resumeValue;
    this.suspendedAt = performance.now();
    ex.asyncify_start_unwind(this.unwindArea.ptr);
  }

  /**
   * WASI imports that may suspend after they return. On resume the rewound call does not run again: it hands
   * back the value it returned before the migration (its memory writes are already in the snapshot).
   */
  private suspendableSystemCalls(
    system: Record<string, (...args: never[]) => unknown>,
  ): Record<string, (...args: never[]) => unknown> {
    const wrapped: Record<string, (...args: never[]) => unknown> = {};
    for (const [name, fn] of Object.entries(system)) {
      wrapped[name] = (...args: never[]) => {
        const ex = this.exports;
        if (ex.asyncify_get_state() === REWINDING) {
          ex.asyncify_stop_rewind();
          this.options.onResumed?.();
          const value = this.resumeValue;
          this.resumeValue = undefined;
          return value;
        }
        const result = fn(...args);
        const migration = this.options.afterSystemCall?.(name);
        if (migration) this.suspend(migration, result as number);
        return result;
      };
    }
    return wrapped;
  }

  private capture(): CapturedState {
    const globals: GlobalValue[] = this.guest.meta.globals.map(({ name, type }) => {
      const v = (this.exports[name] as WebAssembly.Global).value as number | bigint;
      return type === 'i64' ? { type, value: v.toString() } : { type, value: v as number };
    });
    return {
      memory: memoryImage(new Uint8Array(this.exports.memory.buffer)),
      globals,
      unwindArea: this.unwindArea!,
      resumeValue: this.resumeValue,
    };
  }
}
