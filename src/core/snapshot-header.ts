// The shape of a snapshot's JSON header, checked once where the bytes come in (snapshot.ts openFrame): a header
// from the network or a file is hostile until this says otherwise. Every number that later sizes an allocation or
// indexes something has a bound here; the library-OS parts (`wasi`, `resources`) are checked by their own restore.
import { z } from 'zod';
import type { SnapshotHeader } from './snapshot.js';

/** Largest wasm32 linear memory: 65536 pages of 64 KiB. */
export const MAX_MEMORY_BYTES = 2 ** 32;
/** cluster.migration.max_state_mb's default: far above a real program's fd table and changed files. */
export const DEFAULT_MAX_STATE_BYTES = 1 << 30;
const MAX_PAGES = 65536;
/** Names (nodes, functions, ids): far above any real one, far below anything that costs memory. */
const NAME = z.string().max(4096);
const COUNT = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Globals and migration frames are counted in tens; a million is a bound, not a guess. */
const MAX_LIST = 1 << 20;

const migration = z.strictObject({ from: NAME, to: NAME, reason: z.enum(['enter', 'return', 'forced']), fn: NAME });

const globalValue = z.union([
  z.strictObject({ type: z.enum(['i32', 'f32', 'f64']), value: z.number() }),
  z.strictObject({ type: z.literal('i64'), value: z.string().regex(/^-?\d{1,20}$/, 'not an i64') }),
]);

const baselineRef = z.strictObject({ id: NAME.min(1), byteLength: COUNT.max(MAX_MEMORY_BYTES), pages: COUNT.max(MAX_PAGES) });

const headerSchema = z.strictObject({
  moduleSha256: z.string().regex(/^[0-9a-f]{64}$/, 'not a SHA-256 in hex'),
  node: NAME.min(1),
  migration: migration.optional(),
  migrationStack: z.strictObject({
    depth: COUNT,
    frames: z.array(z.strictObject({ from: NAME, to: NAME, fn: NAME, depth: COUNT })).max(MAX_LIST),
  }),
  resumeValue: z.number().int().optional(),
  systemCalls: COUNT,
  globals: z.array(globalValue).max(MAX_LIST),
  unwindArea: z.strictObject({ ptr: COUNT.max(MAX_MEMORY_BYTES), size: COUNT.max(MAX_MEMORY_BYTES) }),
  wasi: z.unknown(),
  resources: z.record(z.string(), z.unknown()),
  blobs: z.array(COUNT).max(MAX_LIST),
  memory: z.strictObject({
    byteLength: COUNT.max(MAX_MEMORY_BYTES).refine((n) => n % 65536 === 0, 'not a whole number of 64 KiB pages'),
    pages: COUNT.max(MAX_PAGES),
    id: NAME.min(1).optional(),
    baseline: baselineRef.optional(),
  }),
  createdBy: NAME,
});

/**
 * Check a typical header once, so that zod's first use of the schema (~7 ms on the development machine) is paid at
 * node start, not in the first hop's downtime.
 */
export function warmUpHeaderCheck(): void {
  checkHeader({
    moduleSha256: '0'.repeat(64),
    node: 'n',
    migration: { from: 'm', to: 'n', reason: 'enter', fn: 'f' },
    migrationStack: { depth: 1, frames: [{ from: 'm', to: 'n', fn: 'f', depth: 1 }] },
    resumeValue: 0,
    systemCalls: 0,
    globals: [{ type: 'i32', value: 0 }, { type: 'i64', value: '0' }],
    unwindArea: { ptr: 0, size: 0 },
    wasi: {},
    resources: {},
    blobs: [0],
    memory: { byteLength: 65536, pages: 1, id: 'a', baseline: { id: 'b', byteLength: 65536, pages: 1 } },
    createdBy: 'n',
  });
}

/** The header if it has the right shape, else a message naming the first field that is wrong. */
export function checkHeader(json: unknown): { header: SnapshotHeader } | { error: string } {
  const parsed = headerSchema.safeParse(json);
  if (parsed.success) return { header: parsed.data as SnapshotHeader };
  const issue = parsed.error.issues[0]!;
  return { error: `header field ${issue.path.join('.') || '(root)'}: ${issue.message}` };
}
