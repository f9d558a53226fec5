// Where Asyncify writes the unwound call stack: pages the host appends to the program's one linear memory.
// The program never learns of them (its allocator only extends what it grew itself), so the area is reused at
// every migration and saved with memory. Its size is computed at each suspension from the live wasm frames and
// the per-function bounds in `kafu.frames`, so there is no fixed cap on stack depth.

import { UserError } from './errors.js';

export interface UnwindArea {
  ptr: number;
  size: number;
}

const PAGE = 65536;
const MIN_AREA = PAGE;
/** Used when the engine gives no wasm frames in stack traces (non-V8); generous but finite. */
const FALLBACK_AREA = 16 * 1024 * 1024;

/** Upper bound of the bytes Asyncify will save, from the current stack trace; undefined if it cannot tell. */
export function unwindBytesNeeded(frameBounds: Uint32Array, importedFunctions: number): number | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Infinity;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  let maxBound = 0;
  for (const b of frameBounds) maxBound = Math.max(maxBound, b);
  let total = 0;
  let frames = 0;
  for (const m of stack.matchAll(/wasm-function\[(\d+)\]/g)) {
    total += frameBounds[Number(m[1]) - importedFunctions] ?? maxBound;
    frames++;
  }
  return frames === 0 ? undefined : total;
}

/** Make sure `area` can hold `needed` bytes of frames; grows memory for a new area when it cannot. */
export function ensureUnwindArea(memory: WebAssembly.Memory, area: UnwindArea | undefined, needed: number | undefined): UnwindArea {
  const want = Math.max(MIN_AREA, 8 + Math.ceil((needed ?? FALLBACK_AREA) * 1.25));
  if (area && area.size >= want) return area;
  const pages = Math.ceil(want / PAGE);
  let old: number;
  try {
    old = memory.grow(pages);
  } catch {
    // Before anything is unwound: the program stops here, intact, with a reason it can act on.
    throw new UserError(
      `cannot migrate: linear memory cannot grow by ${pages * 64} KiB to hold the suspended call stack ` +
        '(the module\'s maximum memory is reached); link with a larger -Wl,--max-memory=…',
    );
  }
  return { ptr: old * PAGE, size: pages * PAGE };
}

/** Asyncify's data header: [current write position, end]. */
export function resetUnwindHeader(memory: WebAssembly.Memory, area: UnwindArea): void {
  const view = new DataView(memory.buffer);
  view.setUint32(area.ptr, area.ptr + 8, true);
  view.setUint32(area.ptr + 4, area.ptr + area.size, true);
}
