// The contract between `kafu clang` (which writes it) and the runtime (which refuses modules without it).
// Stored in the custom section `kafu.meta` as JSON, plus `kafu.frames` (u32 LE per function: an upper bound of
// the bytes Asyncify saves for one frame of that function, used to size the unwind area — see unwind-area.ts).
import { z } from 'zod';
import { UserError } from './errors.js';
import { WasmFormatError, customSection } from './wasm-sections.js';

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

// A module is input like any other: the metadata is checked, with limits, before the runtime relies on it.
const NAME = z.string().min(1).max(1024);
const metadataSchema = z.object({
  format: z.literal('kafu-instrumented'),
  version: z.number().int(),
  points: z.array(z.object({ id: z.number().int().min(0), fn: NAME, node: NAME })).max(1 << 16),
  globals: z.array(z.object({ name: NAME, type: z.enum(['i32', 'i64', 'f32', 'f64']) })).max(1 << 16),
  systemCallPoints: z.boolean(),
  importedFunctions: z.number().int().min(0).max(1 << 20),
  codeSizeBefore: z.number().min(0),
  codeSizeAfter: z.number().min(0),
}).refine((m) => m.points.every((p, i) => p.id === i), { message: 'migration point ids must be 0, 1, 2, … in order' });

/**
 * Read the metadata; undefined when the module was not instrumented by `kafu clang`. `where` names the module in
 * errors: a module that is not wasm, or whose kafu.meta is malformed, is a UserError.
 */
export function readMetadata(wasm: Uint8Array, where = 'the module'): KafuMetadata | undefined {
  let payload: Uint8Array | undefined;
  try {
    payload = customSection(wasm, META_SECTION);
  } catch (e) {
    if (e instanceof WasmFormatError) throw new UserError(`${where} is not a valid WebAssembly module: ${e.message}`);
    throw e;
  }
  if (!payload) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new UserError(`${where}: its kafu.meta section is not JSON; rebuild it with \`kafu clang\``);
  }
  const version = (json as { version?: unknown } | null)?.version;
  if ((json as { format?: unknown } | null)?.format === 'kafu-instrumented' && typeof version === 'number' && version !== INSTRUMENTATION_VERSION) {
    return json as KafuMetadata; // requireMetadata names the version mismatch
  }
  const parsed = metadataSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new UserError(`${where}: its kafu.meta section is malformed (${i.path.join('.') || 'top level'}: ${i.message}); rebuild it with \`kafu clang\``);
  }
  return parsed.data;
}

/** Per defined function, an upper bound of one frame's saved bytes (kafu.frames: u32 LE each). */
export function readFrameBounds(wasm: Uint8Array): Uint32Array {
  const payload = customSection(wasm, FRAMES_SECTION);
  if (!payload) return new Uint32Array();
  const copy = new Uint8Array(payload.subarray(0, payload.length & ~3)); // a copy, aligned (Buffer#slice would return a view)
  return new Uint32Array(copy.buffer, 0, copy.length >> 2);
}

/** The runtime's check: a clear message for a module that `kafu clang` did not build, or an older/newer one. */
export function requireMetadata(wasm: Uint8Array, where: string): KafuMetadata {
  const meta = readMetadata(wasm, where);
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
