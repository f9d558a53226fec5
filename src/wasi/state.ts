// The exported library-OS state: plain JSON (bigints as decimal strings), versioned. Its schema is the one check
// of a state that arrives in a snapshot: its shape, its bounds and the spelling of its paths, before anything of
// it touches a disk (importState then checks each path against the disk as it reopens it).
import { z } from 'zod';
import { PATH_MAX } from './path-resolve.js';
import { StateRefused } from './state-refused.js';
import { SOCKET_ID } from './sockets.js';
import { boundedString, decimal, entryName, I64_MAX, MAX_ENTRIES, mountPath, parseState, U64_MAX } from './state-schema.js';

export const WASI_STATE_VERSION = 1;

/** Linux's MAX_ARG_STRLEN: the longest single argument or environment string a program can be given. */
const MAX_ARG_BYTES = 128 * 1024;
/** Most preopens: each is a mount of the config. */
const MAX_PREOPENS = 1024;

const preopen = z.number().int().min(0).max(MAX_PREOPENS - 1);
const rights = decimal(0n, U64_MAX);

const descriptorSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.enum(['stdin', 'stdout', 'stderr']) }),
  z.object({
    kind: z.literal('file'),
    preopen,
    path: mountPath(),
    offset: decimal(0n, I64_MAX),
    fdflags: z.number().int().min(0).max(0xffff),
    read: z.boolean(),
    write: z.boolean(),
    rightsBase: rights,
    rightsInheriting: rights,
  }),
  z.object({
    kind: z.literal('directory'),
    preopen,
    /** "" is the preopen's own folder. */
    path: mountPath(true),
    /** Set for a preopen's own descriptor: the name fd_prestat_dir_name reports. */
    preopenName: boundedString(PATH_MAX).nullable(),
    rightsBase: rights,
    rightsInheriting: rights,
    /** The cookie after the last entry fd_readdir returned (informational; readdir is cookie-driven). */
    cursor: decimal(0n, U64_MAX),
    /**
     * The names fd_readdir's cookies index (in cookie order, after "." and ".."), as listed at the last
     * rewind; null (or absent, in state from before it was kept) when none is under way: the next call lists.
     */
    listing: z.array(entryName).max(MAX_ENTRIES).nullable().optional(),
  }),
  z.object({
    kind: z.literal('socket'),
    /** A pre-opened listener, or a connection it accepted. */
    role: z.enum(['listener', 'stream']),
    /** The node that holds the host socket (a node id; the host refuses one it does not know). */
    home: z.string().min(1).max(63),
    /** Its handle there (also the capability to use it). */
    id: z.string().regex(SOCKET_ID, 'not a socket handle'),
    /** Calls the program made on it (its home counts them too). */
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    nonblocking: z.boolean(),
    /** Reset because its home was lost: every call fails with ECONNRESET. */
    lost: z.boolean(),
    /** A pre-opened listener: its index in app.listen (on arrival, the handle its home holds for it now). */
    listen: z.number().int().min(0).max(MAX_ENTRIES).optional(),
  }),
]);

/** JSON-safe state of one descriptor (bigints as decimal strings). */
export type DescriptorState = z.infer<typeof descriptorSchema>;

const wasiStateSchema = z.object({
  version: z.literal(WASI_STATE_VERSION, { error: `unsupported WASI state version (this host reads ${WASI_STATE_VERSION})` }),
  args: z.array(boundedString(MAX_ARG_BYTES)).max(MAX_ENTRIES),
  env: z.array(boundedString(MAX_ARG_BYTES)).max(MAX_ENTRIES),
  /** Guest paths of the preopens, in order, so an import can check it got equivalent options. */
  preopens: z.array(boundedString(PATH_MAX)).max(MAX_PREOPENS),
  fds: z
    .array(z.object({ fd: z.number().int().min(0).max(0xffffffff), desc: descriptorSchema }))
    .max(MAX_ENTRIES)
    .superRefine((fds, ctx) => {
      const seen = new Set<number>();
      fds.forEach(({ fd }, i) => {
        if (seen.has(fd)) ctx.addIssue({ code: 'custom', path: [i, 'fd'], message: `fd ${fd} appears twice` });
        seen.add(fd);
      });
    }),
  /** The guest's monotonic clock at export (ns, decimal): it continues from here, never runs backwards. */
  monotonicNs: decimal(0n, U64_MAX),
  /** File times the program set, to the nanosecond (exact-times.ts); absent in state from before they were kept. */
  times: z
    .array(z.object({ preopen, path: mountPath(true), atim: z.tuple([decimal(0n, U64_MAX), decimal(0n, U64_MAX)]).optional(), mtim: z.tuple([decimal(0n, U64_MAX), decimal(0n, U64_MAX)]).optional() }))
    .max(MAX_ENTRIES)
    .optional(),
});

export type WasiState = z.infer<typeof wasiStateSchema>;

/**
 * `raw` as a WasiState for a host whose preopens are `preopens` (their guest paths, in order), or StateRefused
 * naming the offending field. Checks shape and bounds only: paths are checked against the disk as they are reopened.
 */
export function parseWasiState(raw: unknown, preopens: readonly string[]): WasiState {
  const state = parseState(wasiStateSchema, raw, 'WASI state');
  if (state.preopens.length !== preopens.length || state.preopens.some((p, i) => p !== preopens[i])) {
    throw new StateRefused(`WASI state: preopens [${state.preopens.join(', ')}] do not match this host's [${preopens.join(', ')}]`);
  }
  state.fds.forEach(({ desc }, i) => {
    if ('preopen' in desc && desc.preopen >= preopens.length) {
      throw new StateRefused(`WASI state: fds[${i}].desc.preopen: no preopen ${desc.preopen} (this host has ${preopens.length})`);
    }
  });
  return state;
}
