// What a follow mount sends along with the program (follow-mount.ts), as JSON in the snapshot, and the one check of
// its shape on arrival: paths spelled as the resolver would produce them, blobs that exist, bounded counts and
// strings, times in range. A transfer is checked whole before any of it touches the disk; its paths are then
// checked against the disk, entry by entry, as they are applied (restoredPath).
import { z } from 'zod';
import { canonicalProblem, PATH_MAX, utf8Over } from './path-resolve.js';
import { StateRefused } from './state-refused.js';
import { boundedRecord, boundedString, decimal, I64_MAX, I64_MIN, MAX_ENTRIES, mountPath, parseState } from './state-schema.js';

/** Longest version or node id carried: far beyond `${node}:${counter}` of any config. */
const MAX_ID_BYTES = 1024;

const ENTRY_KINDS = ['file', 'directory', 'symlink'] as const;
const entryKind = z.enum(ENTRY_KINDS);
const id = boundedString(MAX_ID_BYTES);

/** path → version; directories and symlinks are versioned too. */
export type Manifest = Record<string, { kind: EntryKind; version: string }>;

/**
 * A manifest names every entry of the mount and travels at every hop, several times (one per node): checked in one
 * loop rather than field by field by zod (~5 µs an entry), and kept as it came (a file named "__proto__" too).
 */
const manifestSchema = z.custom<Manifest>().superRefine((m, ctx) => {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return void ctx.addIssue({ code: 'custom', message: 'not an object' });
  const paths = Object.keys(m);
  if (paths.length > MAX_ENTRIES) return void ctx.addIssue({ code: 'custom', message: `more than ${MAX_ENTRIES} entries` });
  for (const path of paths) {
    const problem = canonicalProblem(path);
    const e = m[path] as { kind?: unknown; version?: unknown } | null;
    const message =
      problem !== null
        ? `${JSON.stringify(path.slice(0, 300))} ${problem}`
        : typeof e !== 'object' || e === null || !ENTRY_KINDS.includes(e.kind as EntryKind) || typeof e.version !== 'string' || utf8Over(e.version, MAX_ID_BYTES)
          ? `not { kind: ${ENTRY_KINDS.join(' | ')}, version: a string of at most ${MAX_ID_BYTES} bytes }`
          : null;
    if (message !== null) return void ctx.addIssue({ code: 'custom', path: [path], message });
  }
});

const stateSchema = z.object({
  /** Versions each node held when the program last left it (or arrived, for the destination). */
  known: boundedRecord(id, manifestSchema),
  /** Current versions, as of the last departure. */
  manifest: manifestSchema,
  counter: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

const time = decimal(I64_MIN, I64_MAX);

const upsertSchema = z
  .object({
    path: mountPath(),
    kind: entryKind,
    /** File contents or symlink target, as a blob index. */
    blob: z.number().int().min(0).optional(),
    /** A hard link to this other path of the mount (sent earlier in the same transfer or already there). */
    linkTo: mountPath().optional(),
    /** Times (ns, decimal) to restore; directories get theirs after everything inside is written. */
    atimNs: time.optional(),
    mtimNs: time.optional(),
  })
  .superRefine((u, ctx) => {
    const problem =
      u.kind === 'directory'
        ? u.blob !== undefined || u.linkTo !== undefined ? 'a directory has neither blob nor linkTo' : null
        : (u.blob === undefined) === (u.linkTo === undefined) ? `a ${u.kind} has either a blob or a linkTo` : null;
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
    if ((u.atimNs === undefined) !== (u.mtimNs === undefined)) ctx.addIssue({ code: 'custom', message: 'atimNs and mtimNs come together' });
  });

const transferSchema = z.object({
  state: stateSchema,
  /** Entries to create or overwrite on the destination, parents first. */
  upserts: z.array(upsertSchema).max(MAX_ENTRIES).superRefine((us, ctx) => {
    const seen = new Set<string>();
    us.forEach((u, i) => {
      if (seen.has(u.path)) ctx.addIssue({ code: 'custom', path: [i, 'path'], message: `${JSON.stringify(u.path)} appears twice` });
      seen.add(u.path);
    });
  }),
  deletes: z.array(mountPath()).max(MAX_ENTRIES),
});

export type EntryKind = z.infer<typeof entryKind>;
export type FollowMountState = z.infer<typeof stateSchema>;
export type FollowMountUpsert = z.infer<typeof upsertSchema>;
export type FollowMountTransfer = z.infer<typeof transferSchema>;

/**
 * `raw` as a transfer whose blobs are `blobs`, or StateRefused naming `what` (e.g. "follow mount /") and the field.
 * A symlink's blob must be a target the guest could have made: not empty, no NUL, shorter than PATH_MAX.
 */
export function parseFollowMountTransfer(raw: unknown, blobs: readonly Uint8Array[], what: string): FollowMountTransfer {
  const t = parseState(transferSchema, raw, what);
  t.upserts.forEach((u, i) => {
    if (u.blob === undefined) return;
    const blob = blobs[u.blob];
    if (blob === undefined) throw new StateRefused(`${what}: upserts[${i}].blob: no blob ${u.blob} (the snapshot has ${blobs.length})`);
    if (u.kind !== 'symlink') return;
    if (blob.length === 0 || blob.length >= PATH_MAX || blob.includes(0)) {
      throw new StateRefused(`${what}: upserts[${i}]: symlink "${u.path}" has a target no guest could make (empty, NUL or too long)`);
    }
  });
  return t;
}

export function symlinkTarget(blob: Uint8Array): string {
  return new TextDecoder().decode(blob);
}
