// A program saved to a `.kafusnap` file because no node could take it (a hand-off that cannot be delivered, the
// first node lost): where the file goes, and the output the program printed that no node delivered yet, which
// travels inside the file so that `kafu serve --resume` prints it first, in order, exactly once.
//
// The file is a whole transfer (transfer.ts) like any hand-off. The undelivered output is one more snapshot
// resource, `kafu.output`: a list of { fd, blob } whose bytes are blobs of the snapshot (the library OS ignores
// resources it does not know, so a resumed program is unaffected). A checkpoint saved by the first node also says how
// many bytes of what the program prints next were printed already (`kafu.output-skip`): those are not printed again.
import { realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { z } from 'zod';
import type { Snapshot } from '../core/snapshot.js';
import type { OutputChunk } from './protocol.js';

const OUTPUT_RESOURCE = 'kafu.output';
const SKIP_RESOURCE = 'kafu.output-skip';

/** What a saved program has to say about its output: chunks no node delivered, bytes printed already. */
export interface SavedOutput {
  chunks: OutputChunk[];
  skip: number;
}
/** Chunks of undelivered output a file may name: a node batches at most 1 MiB a request, chunks are writes. */
const MAX_CHUNKS = 1 << 20;

const outputSchema = z.array(z.strictObject({ fd: z.union([z.literal(1), z.literal(2)]), blob: z.number().int().min(0) })).max(MAX_CHUNKS);

/** `snapshot` with `output` added (a copy; the snapshot itself is not changed). */
export function withSavedOutput(snapshot: Snapshot, output: SavedOutput): Snapshot {
  const first = snapshot.blobs.length;
  const resources: Record<string, unknown> = { ...snapshot.header.resources };
  if (output.chunks.length > 0) resources[OUTPUT_RESOURCE] = output.chunks.map((c, i) => ({ fd: c.fd === 2 ? 2 : 1, blob: first + i }));
  if (output.skip > 0) resources[SKIP_RESOURCE] = output.skip;
  return { ...snapshot, header: { ...snapshot.header, resources }, blobs: [...snapshot.blobs, ...output.chunks.map((c) => c.data)] };
}

/** What a decoded saved program says about its output; a message naming the field if it is malformed. */
export function savedOutput(snapshot: Snapshot): SavedOutput {
  const skip = snapshot.header.resources[SKIP_RESOURCE] ?? 0;
  if (!Number.isSafeInteger(skip) || (skip as number) < 0) throw new Error(`resources.${SKIP_RESOURCE}: not a byte count`);
  return { chunks: undeliveredOutput(snapshot), skip: skip as number };
}

function undeliveredOutput(snapshot: Snapshot): OutputChunk[] {
  const raw = snapshot.header.resources[OUTPUT_RESOURCE];
  if (raw === undefined) return [];
  const parsed = outputSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`resources.${OUTPUT_RESOURCE}${issue.path.map((p) => `[${String(p)}]`).join('')}: ${issue.message}`);
  }
  return parsed.data.map(({ fd, blob }, i) => {
    const data = snapshot.blobs[blob];
    if (data === undefined) throw new Error(`resources.${OUTPUT_RESOURCE}[${i}].blob: no blob ${blob} (the snapshot has ${snapshot.blobs.length})`);
    return { fd, data };
  });
}

const inside = (path: string, dir: string) => {
  const r = relative(dir, path);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
};

const real = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
};

/**
 * Where this node saves a program: the config's folder, unless that lies inside one of the program's mounts on this
 * node (e.g. `preopened_dir: .`), where the file would become one of the program's files (and a follow mount's
 * arrival could change it): then the nearest folder above that is in none of them.
 */
export function saveFolder(configFile: string, mountDirs: string[]): string {
  const mounts = mountDirs.map(real);
  let dir = real(dirname(resolve(configFile)));
  for (;;) {
    const holder = mounts.filter((m) => inside(dir, m)).sort((a, b) => a.length - b.length)[0];
    if (holder === undefined) return dir;
    const up = dirname(holder);
    if (up === holder) return dir; // a mount at the root: nowhere else to go
    dir = up;
  }
}

/** A new file name in `dir` for a program of config `name`. */
export function savedProgramFile(dir: string, name: string): string {
  // The config's name is any text (as in the original Kafu): only its file-name-safe characters make the file's.
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'program';
  return join(dir, `${safe}-${new Date().toISOString().replace(/[:.]/g, '-')}.kafusnap`);
}
