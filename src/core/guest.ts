// Instance lifecycle of an instrumented program: start it, suspend it at a migration point, capture its state,
// and resume captured state in a fresh instance. Engine-neutral (standard WebAssembly JS API only).
import { UserError } from './errors.js';
import { readFrameBounds, requireMetadata, MIGRATION_IMPORT, type KafuMetadata, type MigrationPoint } from './metadata.js';
import type { Migration } from './migration-stack.js';
import { PAGE_SIZE, memoryImage, type GlobalValue, type MemoryImage } from './snapshot.js';
import { ensureUnwindArea, indexByName, resetUnwindHeader, unwindBytesNeeded, type FrameBounds, type UnwindArea } from './unwind-area.js';
import { functionNames, parseSections } from './wasm-sections.js';

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
    readonly frameBounds: FrameBounds,
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
    const frames: FrameBounds = {
      bounds: readFrameBounds(bytes),
      importedFunctions: meta.importedFunctions,
      indexByName: indexByName(functionNames(parseSections(bytes))),
    };
    return new GuestModule(module, meta, frames, await sha256Hex(bytes), bytes.byteLength);
  }

  private initial: MemoryImage | undefined;

  /**
   * The memory a fresh instance starts with (its data segments), as a baseline of id INITIAL_BASELINE_ID that the
   * caller may change: every node builds the same, so a first hop to a node is a delta against it.
   */
  initialBaseline(): { id: string; memory: MemoryImage } {
    const image = (this.initial ??= new GuestInstance(this).initialImage());
    return { id: INITIAL_BASELINE_ID, memory: { byteLength: image.byteLength, pages: image.pages.map(({ index, data }) => ({ index, data: data.slice() })) } };
  }
}

/** `fns`, each calling `after` once it returns. */
function observeCalls(fns: Record<string, (...args: never[]) => unknown>, after: () => void): Record<string, (...args: never[]) => unknown> {
  return Object.fromEntries(
    Object.entries(fns).map(([name, fn]) => [
      name,
      (...args: never[]) => {
        const result = fn(...args);
        after();
        return result;
      },
    ]),
  );
}

/** The id of the memory image a fresh instance of the module starts with (GuestModule.initialBaseline). */
export const INITIAL_BASELINE_ID = 'initial';

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
  /**
   * Any module: called after each WASI call returns (not proc_exit, which does not). What a node's thread does
   * beside a running program happens there (serve's pre-copy rounds); the program waits for it, so keep it cheap.
   */
  onSystemCall?: () => void;
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

/** Function imports as the instance sees them: one trampoline each, calling whatever `bind` put in `fns`. */
interface ImportSlot {
  module: string;
  name: string;
}

/**
 * One instance of the program. A node may keep it when the program leaves (parked, its memory holding the image it
 * left with) and resume the program in it when it comes back: `bind` gives it the next stretch's library OS, and
 * `resume` writes only what differs from what its memory holds. Nothing else of an instance outlives a stretch:
 * every mutable global is exported and restored, Asyncify's state is reset by the rewind.
 */
export class GuestInstance {
  private readonly exports: AsyncifyExports & Record<string, unknown>;
  private options: GuestOptions | undefined;
  private readonly slots: ImportSlot[];
  /** What each import slot calls, from the bound library OS. */
  private fns: ((...args: never[]) => unknown)[] = [];
  private unwindArea: UnwindArea | undefined;
  private pending: Migration | undefined;
  private resumeValue: number | undefined;
  private suspendedAt = 0;
  /**
   * Pages of the memory that may be non-zero: every page of a fresh instance's initial memory (its data segments
   * are there), else the pages of the image it last captured or resumed.
   */
  private nonZero: Iterable<number>;
  /** Whether the program ran in it and may run again (it suspended, so its stack is saved, not lost). */
  private used = false;
  /** Whether a resume has started writing its memory (after it failed, the memory holds no known image). */
  written = false;

  /** `options` now, or later through `bind` (an instance prepared ahead, before the program arrives). */
  constructor(
    private readonly guest: GuestModule,
    options?: GuestOptions,
  ) {
    this.slots = WebAssembly.Module.imports(guest.module)
      .filter((i) => i.kind === 'function' && !(i.module === MIGRATION_IMPORT.module && i.name === MIGRATION_IMPORT.name))
      .map(({ module, name }) => ({ module, name }));
    const imports: Record<string, Record<string, (...args: never[]) => unknown>> = {};
    this.slots.forEach(({ module, name }, i) => {
      (imports[module] ??= {})[name] = (...args: never[]) => this.fns[i]!(...args);
    });
    (imports[MIGRATION_IMPORT.module] ??= {})[MIGRATION_IMPORT.name] = (id: number, kind: number) => this.migrationPoint(id, kind);
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(guest.module, imports as WebAssembly.Imports);
    } catch (e) {
      // A LinkError (an import of another kind than functions) or a data segment that does not fit (a RuntimeError):
      // the module's fault, not the runtime's.
      if (e instanceof WebAssembly.LinkError || e instanceof WebAssembly.RuntimeError || e instanceof TypeError) {
        throw new UserError(`the module cannot be instantiated: ${e.message}`);
      }
      throw e;
    }
    this.exports = instance.exports as unknown as AsyncifyExports & Record<string, unknown>;
    const initialPages = this.exports.memory.buffer.byteLength / PAGE_SIZE;
    this.nonZero = { [Symbol.iterator]: () => Array.from({ length: initialPages }, (_, i) => i)[Symbol.iterator]() };
    if (options) this.bind(options);
  }

  /** The library OS and decisions of the stretch about to run in this instance (a fresh one, or a parked one). */
  bind(options: GuestOptions): void {
    const observed = (fns: Record<string, (...args: never[]) => unknown>) => (options.onSystemCall ? observeCalls(fns, options.onSystemCall) : fns);
    const calls = (fns: Record<string, (...args: never[]) => unknown>) =>
      this.guest.meta.systemCallPoints ? this.suspendableSystemCalls(observed(fns)) : observed(fns);
    const modules: Record<string, Record<string, (...args: never[]) => unknown>> = {
      ...Object.fromEntries(Object.entries(options.system.importModules?.() ?? {}).map(([m, fns]) => [m, calls(fns)])),
      wasi_snapshot_preview1: calls(options.system.imports()),
    };
    this.fns = this.slots.map(({ module, name }) => {
      const fn = modules[module]?.[name];
      if (typeof fn !== 'function') {
        throw new UserError(`the module cannot be instantiated: it imports function ${module}.${name}, which this runtime does not provide`);
      }
      return fn;
    });
    this.options = options;
    options.system.setMemory(this.exports.memory);
  }

  /** Whether the program has run in it (one prepared ahead has not: its memory is the module's initial image). */
  get ran(): boolean {
    return this.used;
  }

  /**
   * A restore streamed in ahead of `resume`: the memory grown now to the snapshot's `byteLength`, so that pages can
   * be written as they arrive (writePage); `resume` is then told only the pages still to write.
   */
  growTo(byteLength: number): void {
    const memory = this.exports.memory;
    const missing = byteLength - memory.buffer.byteLength;
    if (missing < 0) throw new Error("kafu: snapshot memory is smaller than the instance's memory");
    this.written = true;
    if (missing > 0) memory.grow(missing / PAGE_SIZE);
  }

  /** Write page `index` (all of it; undefined: zero) ahead of `resume`, after growTo. */
  writePage(index: number, data: Uint8Array | undefined): void {
    this.written = true;
    const buffer = this.exports.memory.buffer;
    if ((index + 1) * PAGE_SIZE > buffer.byteLength) throw new Error(`kafu: page ${index} is past the instance's memory`);
    if (this.pageView?.buffer !== buffer) this.pageView = new Uint8Array(buffer);
    if (data) this.pageView.set(data, index * PAGE_SIZE);
    else this.pageView.fill(0, index * PAGE_SIZE, (index + 1) * PAGE_SIZE);
  }

  private pageView: Uint8Array | undefined;

  /** Its linear memory's bytes now (a grow replaces the buffer): read while the program runs (serve's pre-copy). */
  get memoryBuffer(): ArrayBuffer {
    return this.exports.memory.buffer;
  }

  /** The byte length of its linear memory now. */
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /** The memory image of a fresh instance, copied (the pages its data segments fill): what every node can build. */
  initialImage(): MemoryImage {
    if (this.used) throw new Error('kafu: initialImage of an instance the program ran in');
    const image = memoryImage(new Uint8Array(this.exports.memory.buffer));
    return { byteLength: image.byteLength, pages: image.pages.map(({ index, data }) => ({ index, data: data.slice() })) };
  }

  /** Run the program from its beginning. */
  start(): RunOutcome {
    return this.enter();
  }

  /**
   * Load captured state into this instance and continue where the program stopped. `changed`, for a parked
   * instance whose memory holds exactly the image `state.memory` is a delta against: the only pages that differ
   * from it (so only those are written). Otherwise every page of the image is written and the others cleared.
   */
  resume(state: CapturedState, changed?: Iterable<number>): RunOutcome {
    const memory = this.exports.memory;
    const current = memory.buffer.byteLength;
    const missing = state.memory.byteLength - current;
    if (missing < 0) throw new Error("kafu: snapshot memory is smaller than the instance's memory");
    const globals = this.guest.meta.globals;
    if (globals.length !== state.globals.length) throw new Error('kafu: snapshot global count does not match the module');
    this.written = true;
    // Pages that are this memory already (an image taken from it in place) need no copy; told before a grow moves it.
    const before = memory.buffer;
    const inPlace = (index: number, data: Uint8Array) => data.buffer === before && data.byteOffset === index * PAGE_SIZE;
    const pages = new Array<Uint8Array | undefined>(state.memory.byteLength / PAGE_SIZE);
    const skip = new Uint8Array(pages.length);
    for (const { index, data } of state.memory.pages) {
      pages[index] = data;
      if (inPlace(index, data)) skip[index] = 1;
    }
    if (missing > 0) memory.grow(missing / PAGE_SIZE);
    // Grown memory is zero already (and stays untouched, so the system need not back it).
    const view = new Uint8Array(memory.buffer);
    const write = (index: number) => {
      if (skip[index]) return;
      const data = pages[index];
      if (data) view.set(data, index * PAGE_SIZE);
      else if (index * PAGE_SIZE < current) view.fill(0, index * PAGE_SIZE, (index + 1) * PAGE_SIZE);
    };
    if (changed) {
      for (const index of changed) write(index);
    } else {
      for (const index of this.nonZero) if (!pages[index]) write(index);
      for (const { index } of state.memory.pages) write(index);
    }
    this.nonZero = state.memory.pages.map((p) => p.index);
    globals.forEach(({ name }, i) => {
      const g = this.exports[name] as WebAssembly.Global;
      const saved = state.globals[i]!;
      g.value = saved.type === 'i64' ? BigInt(saved.value) : saved.value;
    });
    this.unwindArea = state.unwindArea;
    this.resumeValue = state.resumeValue;
    this.pending = undefined;
    this.exports.asyncify_start_rewind(state.unwindArea.ptr);
    return this.enter();
  }

  private enter(): RunOutcome {
    this.used = true;
    try {
      this.exports._start();
    } catch (e) {
      const code = this.bound.exitCode(e);
      if (code === undefined) throw e;
      return { kind: 'exited', code };
    }
    const migration = this.pending;
    if (!migration) return { kind: 'exited', code: 0 };
    this.pending = undefined;
    this.exports.asyncify_stop_unwind();
    return { kind: 'suspended', migration, state: this.capture(), suspendedAt: this.suspendedAt };
  }

  private get bound(): GuestOptions {
    if (!this.options) throw new Error('kafu: an instance ran before it was bound to a library OS');
    return this.options;
  }

  private migrationPoint(id: number, kind: number): void {
    const ex = this.exports;
    if (ex.asyncify_get_state() === REWINDING) {
      // Resumed: this is the call that suspended on the previous node; carry on from here.
      ex.asyncify_stop_rewind();
      this.bound.onResumed?.();
      return;
    }
    const point = this.guest.meta.points[id];
    if (!point) throw new UserError(`the module reached migration point ${id}, which its kafu.meta does not list; rebuild it with \`kafu clang\``);
    const migration = this.bound.decide(point, kind);
    if (migration) this.suspend(migration);
  }

  /** Start unwinding into the unwind area; `_start` returns once the whole stack is saved. */
  private suspend(migration: Migration, resumeValue?: number): void {
    const ex = this.exports;
    const needed = unwindBytesNeeded(this.guest.frameBounds);
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
          this.bound.onResumed?.();
          const value = this.resumeValue;
          this.resumeValue = undefined;
          return value;
        }
        const result = fn(...args);
        const migration = this.bound.afterSystemCall?.(name);
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
    const memory = memoryImage(new Uint8Array(this.exports.memory.buffer));
    this.nonZero = memory.pages.map((p) => p.index);
    return {
      memory,
      globals,
      unwindArea: this.unwindArea!,
      resumeValue: this.resumeValue,
    };
  }
}
