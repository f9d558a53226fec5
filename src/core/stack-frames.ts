// The WebAssembly frames on the current call stack, as the engine reports them. Used to size the unwind area
// from the live frames (unwind-area.ts). Engines say it differently, and this reads each way without asking which
// engine runs:
//  - V8 (Node, Deno, Chromium): its structured call sites (Error.captureStackTrace with Error.prepareStackTrace)
//    give each wasm frame a "wasm://" script, formatted with "wasm-function[INDEX]";
//  - JavaScriptCore (Bun, Safari) has call sites too, and names each wasm frame ".wasm-function[NAME]", NAME from the
//    module's name section or the function index when it has none;
//  - SpiderMonkey (Firefox) has no call sites: "wasm-function[INDEX]" in `Error().stack`.

/** A wasm frame: the function's index in the module (imports counted), or its name in the name section. */
export type WasmFrame = { index: number } | { name: string };

export type PrepareStackTrace = (error: Error, callSites: CallSite[]) => unknown;

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
    if (typeof E.captureStackTrace !== 'function') {
      return [...(new Error().stack ?? '').matchAll(/wasm-function\[(\d+)\]/g)].map((m) => ({ index: Number(m[1]) }));
    }
    // Structured call sites (V8, JavaScriptCore): only the wasm frames are formatted. Formatting the whole stack
    // as text (with the host's own prepareStackTrace) cost ~0.3 ms a suspension in a Node worker.
    const prepare = E.prepareStackTrace;
    const holder: { stack?: unknown } = {};
    E.prepareStackTrace = (_error, callSites) => callSites;
    try {
      E.captureStackTrace(holder);
      void holder.stack; // prepared on first read, while our prepareStackTrace is in place
    } finally {
      E.prepareStackTrace = prepare;
    }
    const sites = Array.isArray(holder.stack) ? (holder.stack as CallSite[]) : [];
    const frames: WasmFrame[] = [];
    // V8: a wasm frame's script is "wasm://…", and it formats as "…wasm-function[INDEX]…".
    for (const site of sites) {
      if (!site.getFileName?.()?.startsWith('wasm://')) continue;
      const m = /wasm-function\[(\d+)\]/.exec(String(site));
      if (m) frames.push({ index: Number(m[1]) });
    }
    if (frames.length > 0) return frames;
    return sites.map((s) => wasmFrameOfCallSite(String(s))).filter((f): f is WasmFrame => f !== undefined);
  } finally {
    E.stackTraceLimit = limit;
  }
}

/** What this reads of a call site (V8's and JavaScriptCore's have more). */
interface CallSite {
  getFileName?(): string | null | undefined;
  toString(): string;
}
