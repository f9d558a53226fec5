// A program that traps gets a short backtrace in its own function names (kafu clang keeps the name section).
// Reads V8's stack format ("at name (wasm://wasm/…:wasm-function[12]:0x…)") and, where the text names no wasm
// frame (JavaScriptCore writes "at unknown"), the engine's structured call sites, as stack-frames.ts does.
import { wasmFrameOfCallSite, type PrepareStackTrace } from './stack-frames.js';

/** What wasmtime exits with when the program traps; kafu run and kafu singlenode do the same. */
export const TRAP_EXIT_CODE = 134;

export function wasmBacktrace(error: Error, limit = 20): string[] {
  const { text, sites } = stackOf(error);
  let frames: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*at (?:(.*?) \()?wasm:\/\/wasm\/[^:]*:wasm-function\[(\d+)\]:(0x[0-9a-f]+)\)?$/.exec(line);
    if (!m) continue;
    frames.push(`${m[1] ?? `wasm-function[${m[2]}]`} (offset ${m[3]})`);
  }
  if (frames.length === 0 && sites) {
    // (Call sites carry no code offset.)
    frames = sites.map(wasmFrameOfCallSite).flatMap((f) => (!f ? [] : ['name' in f ? f.name : `wasm-function[${f.index}]`]));
  }
  if (frames.length > limit) frames.splice(limit, frames.length - limit, `… ${frames.length - limit} more frames`);
  return frames;
}

/**
 * An error's stack text and, when this is its first reading (engines format a stack when it is first read), its call
 * sites. The text is what the engine would have written: its own formatter's, or V8's layout where the engine
 * calls ours.
 */
function stackOf(error: Error): { text: string; sites?: string[] } {
  const E = Error as unknown as { prepareStackTrace?: PrepareStackTrace };
  const previous = E.prepareStackTrace;
  let sites: string[] | undefined;
  E.prepareStackTrace = (e, callSites) => {
    sites = callSites.map(String);
    return previous ? previous(e, callSites) : [String(e), ...sites.map((s) => `    at ${s}`)].join('\n');
  };
  let stack: unknown;
  try {
    stack = error.stack;
  } finally {
    E.prepareStackTrace = previous;
  }
  return { text: typeof stack === 'string' ? stack : '', sites };
}

/**
 * What ends a program as a trap: a wasm trap (RuntimeError), or the engine's stack overflowing (V8 throws a RangeError,
 * which no program can catch) as a trap that says what to raise. Anything else is not the program's doing: undefined.
 */
export function asTrap(e: unknown): WebAssembly.RuntimeError | undefined {
  if (e instanceof WebAssembly.RuntimeError) return e;
  if (e instanceof RangeError && /call stack size exceeded/i.test(e.message)) {
    const trap = new WebAssembly.RuntimeError(
      'call stack exhausted: the recursion is deeper than the engine stack of the program\'s thread allows; raise it ' +
        'with KAFU_STACK_MB=<MiB> on every node (default 256), or recurse less',
    );
    trap.stack = `${trap.name}: ${trap.message}\n${(e.stack ?? '').split('\n').slice(1).join('\n')}`;
    return trap;
  }
  return undefined;
}
