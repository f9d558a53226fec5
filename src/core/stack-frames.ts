// The WebAssembly frames on the current call stack, as the engine reports them. Used to size the unwind area
// from the live frames (unwind-area.ts). Engines say it differently, and this reads each way without asking which
// engine runs:
//  - V8 (Node, Deno, Chromium) and SpiderMonkey (Firefox) put "wasm-function[INDEX]" in `Error().stack`;
//  - JavaScriptCore (Bun, Safari) writes "at unknown" there, but its structured call sites
//    (Error.prepareStackTrace, which V8 has too) name each wasm frame ".wasm-function[NAME]", NAME from the
//    module's name section or the function index when it has none.

/** A wasm frame: the function's index in the module (imports counted), or its name in the name section. */
export type WasmFrame = { index: number } | { name: string };

export type PrepareStackTrace = (error: Error, callSites: { toString(): string }[]) => unknown;

/** A wasm frame from one of JavaScriptCore's call sites (".wasm-function[NAME] (native)"), or undefined. */
export function wasmFrameOfCallSite(site: string): WasmFrame | undefined {
  const m = /^\.wasm-function\[(.*)\] \(native\)$/.exec(site);
  if (!m) return undefined;
  return /^\d+$/.test(m[1]!) ? { index: Number(m[1]) } : { name: m[1]! };
}

export function wasmFramesOnStack(): WasmFrame[] {
  const E = Error as unknown as { stackTraceLimit?: number; prepareStackTrace?: PrepareStackTrace; captureStackTrace?: (o: object) => void };
  const limit = E.stackTraceLimit;
  E.stackTraceLimit = Infinity;
  try {
    const fromText = [...(new Error().stack ?? '').matchAll(/wasm-function\[(\d+)\]/g)].map((m) => ({ index: Number(m[1]) }));
    if (fromText.length > 0 || typeof E.captureStackTrace !== 'function') return fromText;
    const prepare = E.prepareStackTrace;
    const holder: { stack?: unknown } = {};
    E.prepareStackTrace = (_error, callSites) => callSites.map(String);
    try {
      E.captureStackTrace(holder);
      void holder.stack; // formatted on first read, while our prepareStackTrace is in place
    } finally {
      E.prepareStackTrace = prepare;
    }
    const sites = Array.isArray(holder.stack) ? (holder.stack as string[]) : [];
    return sites.map(wasmFrameOfCallSite).filter((f): f is WasmFrame => f !== undefined);
  } finally {
    E.stackTraceLimit = limit;
  }
}
