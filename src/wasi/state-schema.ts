// Building blocks for checking the shape of library-OS state that arrives in a snapshot (plain JSON, hostile until
// checked): bounded counts and strings, decimal bigints in range, paths that could have come from the resolver.
// A state is checked whole, once, before anything of it touches a disk; a refusal names the field.
import { z } from 'zod';
import { canonicalProblem, NAME_MAX, utf8Over } from './path-resolve.js';
import { StateRefused } from './state-refused.js';

/**
 * Most entries in one list or record of a state (descriptors, directory listings, follow-mount entries): far
 * beyond what a program holds (1024 open files by default on Linux), yet a bound on the work a state can cause.
 */
export const MAX_ENTRIES = 1 << 20;

/** A string of at most `max` UTF-8 bytes. */
export const boundedString = (max: number) =>
  z.string().refine((s) => !utf8Over(s, max), { message: `longer than ${max} bytes` });

/** A bigint as JSON carries it: a decimal string, within [min, max]. */
export const decimal = (min: bigint, max: bigint) =>
  z.string().superRefine((s, ctx) => {
    // One check: zod runs every refinement, and BigInt() of a non-decimal string throws.
    const why = !/^-?(0|[1-9][0-9]{0,19})$/.test(s) ? 'not a decimal integer' : BigInt(s) < min || BigInt(s) > max ? `out of range [${min}, ${max}]` : null;
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });

export const U64_MAX = (1n << 64n) - 1n;
export const I64_MIN = -(1n << 63n);
export const I64_MAX = (1n << 63n) - 1n;

/**
 * A path inside a mount, by its spelling only (canonicalProblem: what the resolver produces for a guest); ""
 * (the mount itself) where `root` allows it. The disk is asked later, entry by entry (restoredPath).
 */
export const mountPath = (root = false) =>
  z.string().superRefine((p, ctx) => {
    const problem = canonicalProblem(p, root);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(p.slice(0, 300))} ${problem}` });
  });

/** A directory entry's name: one component, not "." or "..", within NAME_MAX. */
export const entryName = z.string().superRefine((n, ctx) => {
  if (n === '' || n === '.' || n === '..' || n.includes('/') || n.includes('\0') || utf8Over(n, NAME_MAX)) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(n.slice(0, 300))} is not an entry name` });
  }
});

/** A record (JSON object) of at most MAX_ENTRIES entries. */
export const boundedRecord = <K extends z.ZodType<string>, V extends z.ZodType>(key: K, value: V) =>
  z
    .custom<Record<string, unknown>>((o) => typeof o === 'object' && o !== null && !Array.isArray(o) && Object.keys(o).length <= MAX_ENTRIES, {
      message: `not an object of at most ${MAX_ENTRIES} entries`,
    })
    .pipe(z.record(key, value));

/**
 * What parseState() returned, and by which schema: a host that checks a whole snapshot before restoring any of it
 * (src/node/node-system.ts) hands the parts on to the library OS, whose entry points check what they are given
 * again; a part they are handed as it came out of the check is not walked twice (large manifests cost).
 */
const checked = new WeakMap<object, z.ZodType>();

/** `raw` as `schema` describes it, or StateRefused naming `what` and the first offending field. */
export function parseState<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  if (typeof raw === 'object' && raw !== null && checked.get(raw) === schema) return raw as z.output<S>;
  const r = schema.safeParse(raw);
  if (r.success) {
    if (typeof r.data === 'object' && r.data !== null) checked.set(r.data, schema);
    return r.data;
  }
  let issue: z.core.$ZodIssue = r.error.issues[0]!;
  const path = [...issue.path];
  // A record's bad key: say what is wrong with the key itself.
  while (issue.code === 'invalid_key' && issue.issues[0]) {
    issue = issue.issues[0];
    path.push(...issue.path);
  }
  const field = path
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : typeof k === 'string' && /^[A-Za-z_$][\w$]*$/.test(k) ? `${i ? '.' : ''}${k}` : `[${JSON.stringify(String(k))}]`))
    .join('');
  throw new StateRefused(`${what}: ${field || '(top level)'}: ${issue.message}`);
}
