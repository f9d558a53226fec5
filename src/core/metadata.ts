// The contract between `kafu clang` (which writes it) and the runtime (which refuses modules without it).
// Stored in the custom section `kafu.meta` as JSON, plus `kafu.frames` (u32 LE per function: an upper bound of
// the bytes Asyncify saves for one frame of that function, used to size the unwind area — see unwind-area.ts).
import { UserError } from './errors.js';
import { customSection } from './wasm-sections.js';

export const META_SECTION = 'kafu.meta';
export const FRAMES_SECTION = 'kafu.frames';
export const DEST_SECTION = 'kafu.dest';
/** Bumped whenever the instrumentation's contract with the runtime changes. */
export const INSTRUMENTATION_VERSION = 1;

export const MIGRATION_IMPORT = { module: 'kafu', name: 'migration_point' } as const;

export interface MigrationPoint {
  /** Index passed to the migration_point import. */
  id: number;
  /** Exported name of the KAFU_DEST function. */
  fn: string;
  /** Destination node id. */
  node: string;
}

export interface KafuMetadata {
  format: 'kafu-instrumented';
  version: number;
  points: MigrationPoint[];
  /** Every mutable global, exported under `name`, in module order (they are saved in the snapshot). */
  globals: { name: string; type: 'i32' | 'i64' | 'f32' | 'f64' }[];
  /** Every WASI call is also a suspension point (built for forced-migration testing). */
  systemCallPoints: boolean;
  /** Index of the first defined (non-imported) function, to map stack-trace indices onto `kafu.frames`. */
  importedFunctions: number;
  codeSizeBefore: number;
  codeSizeAfter: number;
}

/** Parse `kafu.dest` records ("fn\0node\0" repeated) as written by KAFU_DEST in kafu.h. */
export function parseDestRecords(payload: Uint8Array): { fn: string; node: string }[] {
  const strings = new TextDecoder().decode(payload).split('\0');
  if (strings.at(-1) === '') strings.pop();
  if (strings.length % 2 !== 0) throw new UserError('malformed kafu.dest section (odd number of strings)');
  const out: { fn: string; node: string }[] = [];
  for (let i = 0; i < strings.length; i += 2) out.push({ fn: strings[i]!, node: strings[i + 1]! });
  return out;
}

export function encodeMetadata(meta: KafuMetadata): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(meta));
}

/** Read the metadata; undefined when the module was not instrumented by `kafu clang`. */
export function readMetadata(wasm: Uint8Array): KafuMetadata | undefined {
  const payload = customSection(wasm, META_SECTION);
  if (!payload) return undefined;
  const meta = JSON.parse(new TextDecoder().decode(payload)) as KafuMetadata;
  if (meta.format !== 'kafu-instrumented') throw new UserError('kafu.meta section has an unknown format');
  return meta;
}

export function readFrameBounds(wasm: Uint8Array): Uint32Array {
  const payload = customSection(wasm, FRAMES_SECTION);
  if (!payload) return new Uint32Array();
  const copy = new Uint8Array(payload); // a copy, aligned (Buffer#slice would return a view)
  return new Uint32Array(copy.buffer, 0, copy.length >> 2);
}

/** The runtime's check: a clear message for a module that `kafu clang` did not build, or an older/newer one. */
export function requireMetadata(wasm: Uint8Array, where: string): KafuMetadata {
  const meta = readMetadata(wasm);
  if (!meta) {
    throw new UserError(
      `${where} was not built by \`kafu clang\` (no kafu.meta section): it cannot migrate. ` +
        'Build it with `npx kafu clang …`, or run a plain WASI module with `kafu run`.',
    );
  }
  if (meta.version !== INSTRUMENTATION_VERSION) {
    throw new UserError(
      `${where} was instrumented with format version ${meta.version}, this runtime needs ${INSTRUMENTATION_VERSION}: rebuild it with this kafu's \`kafu clang\``,
    );
  }
  return meta;
}
