// Where Asyncify writes the unwound call stack: pages the host appends to the program's one linear memory.
// The program never learns of them (its allocator only extends what it grew itself), so the area is reused at
// every migration and saved with memory. Its size is computed at each suspension from the live wasm frames and
// the per-function bounds in `kafu.frames`, so there is no fixed cap on stack depth.

import { UserError } from './errors.js';
import { wasmFramesOnStack } from './stack-frames.js';

export interface UnwindArea {
  ptr: number;
  size: number;
}

const PAGE = 65536;
const MIN_AREA = PAGE;
/** Used when the engine reports no wasm frames (stack-frames.ts); generous but finite. */
const FALLBACK_AREA = 16 * 1024 * 1024;

/** What the unwind area's size is computed from: the module's `kafu.frames` and how frames are named. */
export interface FrameBounds {
  /** Bytes Asyncify saves at most for a frame of each defined function (imports not counted). */
  bounds: Uint32Array;
  importedFunctions: number;
  /** Function index by name-section name (engines that name frames; stack-frames.ts); -1 for a name used twice. */
  indexByName: Map<string, number>;
}

/** Upper bound of the bytes Asyncify will save, from the current stack; undefined if the engine does not tell. */
export function unwindBytesNeeded(f: FrameBounds): number | undefined {
  const maxBound = largestBound(f.bounds);
  const frames = wasmFramesOnStack();
  let total = 0;
  for (const frame of frames) {
    const index = 'index' in frame ? frame.index : (f.indexByName.get(frame.name) ?? -1);
    total += (index >= 0 ? f.bounds[index - f.importedFunctions] : undefined) ?? maxBound;
  }
  return frames.length === 0 ? undefined : total;
}

const largest = new WeakMap<Uint32Array, number>();

/** The largest bound of any function: found once per module, not at every suspension (modules have thousands). */
function largestBound(bounds: Uint32Array): number {
  let max = largest.get(bounds);
  if (max === undefined) {
    max = 0;
    for (const b of bounds) max = Math.max(max, b);
    largest.set(bounds, max);
  }
  return max;
}

/** Function index by name (functionNames() of the module), for FrameBounds. */
export function indexByName(names: Map<number, string>): Map<string, number> {
  const byName = new Map<string, number>();
  for (const [index, name] of names) byName.set(name, byName.has(name) ? -1 : index);
  return byName;
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
