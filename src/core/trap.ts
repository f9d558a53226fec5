// A program that traps gets a short backtrace in its own function names (kafu clang keeps the name section).
// Reads V8's stack format ("at name (wasm://wasm/…:wasm-function[12]:0x…)"); other engines give no frames.

/** What wasmtime exits with when the program traps; kafu run and kafu singlenode do the same. */
export const TRAP_EXIT_CODE = 134;

export function wasmBacktrace(error: Error, limit = 20): string[] {
  const frames: string[] = [];
  for (const line of (error.stack ?? '').split('\n')) {
    const m = /^\s*at (?:(.*?) \()?wasm:\/\/wasm\/[^:]*:wasm-function\[(\d+)\]:(0x[0-9a-f]+)\)?$/.exec(line);
    if (!m) continue;
    frames.push(`${m[1] ?? `wasm-function[${m[2]}]`} (offset ${m[3]})`);
  }
  if (frames.length > limit) frames.splice(limit, frames.length - limit, `… ${frames.length - limit} more frames`);
  return frames;
}
