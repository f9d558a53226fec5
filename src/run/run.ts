// `kafu run`: any WASI preview1 module (Kafu-built or not) on our library OS, in this process, no migration.
// Also how tests run a program "without migration" to compare against a migrating run.
import { UserError } from '../core/errors.js';
import { asTrap, TRAP_EXIT_CODE } from '../core/trap.js';
import { WasiExit, WasiHost, type WasiOptions } from '../wasi/index.js';
import { spectestImports } from '../wasi/spectest.js';

/** The library OS's options (clocks and randomness default to the host's), and what to do on a trap. */
export interface RunOptions extends Omit<WasiOptions, 'clocks' | 'randomFill'> {
  /** Told when the program traps (then the exit code is TRAP_EXIT_CODE). */
  onTrap?: (error: WebAssembly.RuntimeError) => void;
  /** More host modules over the library OS (WASI-NN and kafu_helper: NnHost). */
  moreHost?: (wasi: WasiHost) => MoreHost;
}

export interface MoreHost {
  setMemory(memory: WebAssembly.Memory): void;
  importModules(): Record<string, Record<string, (...args: number[]) => number>>;
}

/** What a migration point does when nothing migrates: pass. Lets `kafu run` execute instrumented modules too. */
const passThroughKafu = { migration_point: () => {} };

export async function runWasiModule(bytes: Uint8Array, where: string, opts: RunOptions): Promise<number> {
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new UserError(`${where}: not a WebAssembly module this engine accepts: ${(e as Error).message}`);
  }
  const { onTrap, moreHost, ...wasiOptions } = opts;
  const wasi = new WasiHost(wasiOptions);
  const more = moreHost?.(wasi);
  const modules: Record<string, Record<string, (...args: never[]) => unknown>> = { spectest: spectestImports(wasi), ...more?.importModules() };
  const imports: WebAssembly.Imports = { wasi_snapshot_preview1: wasi.imports() as WebAssembly.ModuleImports };
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === 'kafu') imports.kafu = passThroughKafu;
    else if (Object.hasOwn(modules, imp.module)) imports[imp.module] = modules[imp.module]!;
    else if (imp.module !== 'wasi_snapshot_preview1') {
      throw new UserError(`${where} imports ${imp.module}.${imp.name}, which kafu run does not provide`);
    }
  }
  try {
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, imports);
    } catch (e) {
      // An import of the wrong kind (LinkError, TypeError): the module's fault. A RuntimeError is its start function
      // trapping (or a data segment that does not fit): a trap, below.
      if (e instanceof WebAssembly.LinkError || e instanceof TypeError) {
        throw new UserError(`${where} cannot be instantiated: ${e.message}`);
      }
      throw e;
    }
    const { memory, _start } = instance.exports as { memory?: WebAssembly.Memory; _start?: () => void };
    if (!(memory instanceof WebAssembly.Memory)) throw new UserError(`${where} exports no memory`);
    if (typeof _start !== 'function') throw new UserError(`${where} has no _start export (not a WASI command)`);
    wasi.setMemory(memory);
    more?.setMemory(memory);
    _start();
    return 0;
  } catch (e) {
    if (e instanceof WasiExit) return e.code;
    const trap = asTrap(e);
    if (!trap) throw e;
    onTrap?.(trap);
    return TRAP_EXIT_CODE;
  } finally {
    wasi.release();
  }
}
