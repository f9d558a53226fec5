// kafu-config.yaml: Kafu's keys, validated strictly (unknown keys are errors that name the field).
import { z } from 'zod';
import { DEFAULT_MAX_STATE_BYTES } from './snapshot-header.js';

const nonEmpty = (what: string) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? `${what} is required` : `${what} must be a string`) })
    .min(1, `${what} must not be empty`);

// The original Kafu's optional fields are Rust `Option`s: `key: null` (or a bare `key:`) means the key is left out.
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === null ? undefined : v), schema.optional());

// Other spellings the original Kafu accepts for a key (serde aliases), renamed to ours before validation; two
// spellings of one key in the same map are an error, as there.
function aliased(aliases: Record<string, string>) {
  return (v: unknown, ctx: z.core.ParsePayload) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    for (const [alias, key] of Object.entries(aliases)) {
      if (!(alias in out)) continue;
      if (key in out) {
        ctx.issues.push({ code: 'custom', path: [alias], input: v, message: `${alias} is another spelling of ${key}: give one of them` });
        continue;
      }
      out[key] = out[alias];
      delete out[alias];
    }
    return out;
  };
}

/**
 * A whole number in [min, max] whose every mistake says the range (zod's `error` on z.number() would say "must be a
 * number" for -5 too: it applies to every issue of the schema).
 */
const wholeNumber = (what: string, min: number, max: number) => {
  const range = `${what} must be a whole number from ${min} to ${max}`;
  return z
    .number({ error: (iss) => (iss.code === 'invalid_type' ? `${what} must be a number (from ${min} to ${max})` : undefined) })
    .int(range)
    .min(min, range)
    .max(max, range);
};

/** The longest timer Node's setTimeout/setInterval keeps (2^31 - 1 ms); longer ones fire after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

// A browser node: its `kafu serve` process (at `address`, gRPC on `port` like any node) bridges a browser tab, which
// runs the program; the tab opens the page it serves on `browser.port` (README "A browser tab as a node").
const browserSchema = z.strictObject({
  port: wholeNumber('port', 1, 65535),
  // How long a hop to this node waits for a tab to connect before it fails (within the 30 s a sender gives one
  // attempt of a hand-off).
  tab_wait_s: wholeNumber('tab_wait_s', 1, 25).default(20),
});

const nodeSchema = z.strictObject({
  address: nonEmpty('address'),
  port: wholeNumber('port', 1, 65535),
  placement: optional(nonEmpty('placement')),
  browser: browserSchema.optional(),
});

const mountSchema = z.strictObject({
  guest: z.string().regex(/^\//, 'guest must be an absolute path in the program, like /data'),
  host: nonEmpty('host'),
  mode: z.enum(['follow', 'node-local']).default('follow'),
});

// wasi-nn: models load_by_name finds, each on every node or only on the nodes listed (the big model only where the
// GPU is); what a `gpu` graph does on a node without one.
const nnSchema = z.strictObject({
  models: z
    .record(z.string().min(1, 'model name must not be empty'), z.strictObject({
      path: nonEmpty('path'),
      nodes: z.array(nonEmpty('node id')).min(1, 'nodes must list at least one node (leave it out for every node)').optional(),
    }))
    .default({}),
  gpu_fallback: z.enum(['error', 'cpu'], { error: 'gpu_fallback must be error or cpu' }).default('error'),
});

// A listening TCP socket for the program, opened on its home node (by default the first node) and reached from
// wherever the program runs.
const listenSchema = z.strictObject({
  node: optional(nonEmpty('node')),
  address: nonEmpty('address'),
  port: z.number({ error: 'port must be a number' }).int('port must be an integer').min(1).max(65535),
});

const appSchema = z
  .strictObject({
    path: optional(nonEmpty('path')),
    url: optional(z.url({ error: 'url must be a URL' })),
    // As the original accepts them: numbers become their decimal text (`args: [960, 540]`), and an empty `args:`
    // (null) is no arguments.
    args: z.preprocess(
      (v) => (v === null ? [] : v),
      z.array(z.union([z.string(), z.number().transform(String)], { error: 'each arg must be a string or a number' })),
    ).default([]),
    env: z.record(z.string(), z.string({ error: 'env values must be strings' })).default({}),
    preopened_dir: optional(nonEmpty('preopened_dir')),
    mounts: z.array(mountSchema).default([]),
    // kafu serve: `local` prints on the node where the program runs (Kafu's behaviour); `first_node` forwards
    // everything to the first node, in program order.
    output: z.enum(['local', 'first_node'], { error: 'output must be local or first_node' }).default('local'),
    nn: nnSchema.prefault({}),
    listen: z.array(listenSchema).default([]),
  }, { error: (iss) => (iss.input === undefined ? 'app is required' : 'app must be a map') })
  .refine((a) => (a.path === undefined) !== (a.url === undefined), {
    message: 'exactly one of app.path and app.url must be given',
  })
  .superRefine((a, ctx) => {
    const guests = [...(a.preopened_dir === undefined ? [] : ['/']), ...a.mounts.map((m) => m.guest.replace(/\/+$/, '') || '/')];
    const dup = guests.find((g, i) => guests.indexOf(g) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['mounts'], message: `two mounts at ${dup} (preopened_dir is the mount at /)` });
  });

// Mutual TLS between nodes: the CA every node trusts and this node's certificate and key (PEM files, relative to the
// config; `${node}` stands for the node's id). A node's identity is its certificate's common name. `plaintext`
// turns encryption and authentication off, explicitly (a trusted network only; logged as a warning).
const tlsSchema = z.union(
  [
    z.literal('plaintext'),
    z.strictObject({ ca: nonEmpty('ca'), cert: nonEmpty('cert'), key: nonEmpty('key') }),
  ],
  { error: 'tls must be a map { ca, cert, key } of PEM files, or plaintext' },
);

const clusterSchema = z.strictObject({
  tls: tlsSchema.optional(),
  heartbeat: z
    .strictObject({
      follower_on_coordinator_lost: z.enum(['shutdown_self', 'ignore']).default('shutdown_self'),
      interval_ms: wholeNumber('interval_ms', 10, MAX_TIMER_MS).default(1000),
    })
    .prefault({}),
  migration: z
    .preprocess(aliased({ delta_compression: 'memory_compression', memroy_compression: 'memory_compression' }), z.strictObject({
      memory_migration: z.enum(['delta', 'full']).default('delta'),
      // true: zero/sparse/changed-word encodings at memory speed; deflate: also DEFLATE dense pages (slow links only).
      memory_compression: z
        .union([z.boolean(), z.literal('deflate')], { error: 'memory_compression must be true, false or deflate' })
        .default(true),
      // Largest library-OS state a node accepts in a hand-off (fd table, mount state and the file contents that
      // travel with the program), in MiB; memory is bounded by the module's own maximum.
      max_state_mb: z.number().int().min(1).max(1 << 20).default(DEFAULT_MAX_STATE_BYTES >> 20),
      // kafu serve: send the heap ahead, while the program runs, to the node it goes to next (README "Pre-copy"):
      // auto (the one KAFU_DEST node other than this one, if there is exactly one), off, or a node id.
      precopy: z.string({ error: 'precopy must be auto, off or a node id' }).min(1, 'precopy must be auto, off or a node id').default('auto'),
      // How long the program runs on a node before the first round, and the least time between two rounds' starts.
      precopy_after_ms: wholeNumber('precopy_after_ms', 0, MAX_TIMER_MS).default(100),
      precopy_interval_ms: wholeNumber('precopy_interval_ms', 10, MAX_TIMER_MS).default(250),
    }))
    .prefault({}),
  // kafu serve: `hops` — the node that hands the program on keeps it as it was at that hop (a checkpoint); when the
  // node holding it dies, the run continues from there instead of ending (README "When a node dies").
  checkpoint: z.enum(['off', 'hops'], { error: 'checkpoint must be off or hops' }).default('off'),
});

export const configSchema = z
  .strictObject({
    name: nonEmpty('name'),
    app: appSchema,
    nodes: z
      .record(
        // A node id names certificates (its common name), files (`${node}` in paths) and Kubernetes objects.
        z.string().min(1, 'node id must not be empty').regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/, {
          error: (iss) => `node id ${JSON.stringify(iss.input)}: use letters, digits, '_', '-' and '.' (at most 63, not starting with '.' or '-')`,
        }),
        nodeSchema,
        {
          error: (iss) => (iss.code !== 'invalid_type' ? undefined : iss.input === undefined ? 'nodes is required' : 'nodes must be a map of node id → node'),
        },
      )
      .refine((n) => Object.keys(n).length > 0, { message: 'at least one node is required' }),
    cluster: clusterSchema.prefault({}),
  })
  .superRefine((c, ctx) => {
    const first = Object.keys(c.nodes)[0];
    // The first node starts the program, prints its output and reads its input: a node process's job, not a tab's.
    if (first !== undefined && c.nodes[first]!.browser) {
      ctx.addIssue({ code: 'custom', path: ['nodes', first, 'browser'], message: `the first node (${first}) cannot be a browser node: list another node first` });
    }
    const seen = new Set<string>();
    c.app.listen.forEach((l, i) => {
      if (l.node !== undefined && !(l.node in c.nodes)) {
        ctx.addIssue({ code: 'custom', path: ['app', 'listen', i, 'node'], message: `${l.node} is not a node of this config` });
      } else if (l.node !== undefined && c.nodes[l.node]!.browser) {
        ctx.addIssue({ code: 'custom', path: ['app', 'listen', i, 'node'], message: `${l.node} is a browser node, which cannot listen (a tab cannot accept connections)` });
      }
      const key = `${l.node ?? first}|${l.address}|${l.port}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['app', 'listen', i], message: `${l.address}:${l.port} is listed twice for node ${l.node ?? first}` });
      seen.add(key);
    });
    const precopy = c.cluster.migration.precopy;
    if (precopy !== 'auto' && precopy !== 'off' && !(precopy in c.nodes)) {
      ctx.addIssue({ code: 'custom', path: ['cluster', 'migration', 'precopy'], message: `${precopy} is not a node of this config (precopy: auto, off or a node id)` });
    }
    for (const [name, m] of Object.entries(c.app.nn.models)) {
      for (const [i, n] of (m.nodes ?? []).entries()) {
        if (!(n in c.nodes)) {
          ctx.addIssue({ code: 'custom', path: ['app', 'nn', 'models', name, 'nodes', i], message: `${n} is not a node of this config` });
        }
      }
    }
  });

export interface NodeConfig {
  id: string;
  address: string;
  port: number;
  placement?: string;
  /** A browser node: the port of the page its process serves for the tab that runs the program. */
  browser?: { port: number; tab_wait_s: number };
}

export interface MountConfig {
  guest: string;
  /** Host folder, relative to the config file; `${node}` stands for the node's id. */
  host: string;
  /** follow: the files travel with the program; node-local: each node's own folder, open files cannot move. */
  mode: 'follow' | 'node-local';
}

export interface NnConfig {
  /** Models `load_by_name` finds: path relative to the config file (`${node}` stands for the node id). */
  models: Record<string, { path: string; nodes?: string[] }>;
  /** A `gpu` graph on a node without ONNX Runtime's CUDA provider: an error, or the CPU (logged). */
  gpu_fallback: 'error' | 'cpu';
}

/** A listener of app.listen, its home resolved (the first node when the config names none). */
export interface ListenConfig {
  node: string;
  address: string;
  port: number;
}

export interface KafuConfig {
  name: string;
  app: {
    path?: string;
    url?: string;
    args: string[];
    env: Record<string, string>;
    mounts: MountConfig[];
    output: 'local' | 'first_node';
    nn: NnConfig;
    /** Listening sockets, in order: the program's descriptors after its folders. */
    listen: ListenConfig[];
  };
  /** In file order: the first node starts the program. */
  nodes: NodeConfig[];
  cluster: z.output<typeof clusterSchema>;
}

export type TlsConfig = z.output<typeof tlsSchema>;

export interface ConfigIssue {
  path: (string | number)[];
  message: string;
  /** For unknown keys: the keys (the path is their map's). */
  keys?: string[];
}

/**
 * A zod issue as ConfigIssues. A union (e.g. `tls: plaintext | { ca, cert, key }`) whose value has the type of one
 * branch reports that branch's own issues (a missing `key`), not only "must be one of".
 */
function toIssues(i: z.core.$ZodIssue, prefix: PropertyKey[]): ConfigIssue[] {
  const path = [...prefix, ...i.path];
  if (i.code === 'invalid_union') {
    const typed = i.errors.filter((branch) => !branch.some((b) => b.path.length === 0 && (b.code === 'invalid_type' || b.code === 'invalid_value')));
    if (typed.length === 1) return typed[0]!.flatMap((b) => toIssues(b, path));
  }
  if (i.code === 'invalid_key') return i.issues.flatMap((b) => toIssues(b, path)); // a bad node id: say why
  return [{
    path: path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    message: i.code === 'unrecognized_keys' ? `unknown key(s): ${i.keys.join(', ')}` : i.message,
    keys: i.code === 'unrecognized_keys' ? i.keys : undefined,
  }];
}

/** Validate parsed YAML; `nodeOrder` is the order of the ids in the file (JS objects reorder numeric keys). */
export function validateConfig(raw: unknown, nodeOrder: string[]): { config?: KafuConfig; issues: ConfigIssue[] } {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) return { issues: parsed.error.issues.flatMap((i) => toIssues(i, [])) };
  const c = parsed.data;
  const ids = nodeOrder.filter((id) => id in c.nodes);
  return {
    issues: [],
    config: {
      name: c.name,
      app: {
        path: c.app.path,
        url: c.app.url,
        args: c.app.args,
        env: c.app.env,
        // Kafu's preopened_dir is the mount at "/"; its files follow the program.
        mounts: [
          ...(c.app.preopened_dir === undefined ? [] : [{ guest: '/', host: c.app.preopened_dir, mode: 'follow' as const }]),
          ...c.app.mounts,
        ],
        output: c.app.output,
        nn: c.app.nn,
        listen: c.app.listen.map((l) => ({ node: l.node ?? ids[0]!, address: l.address, port: l.port })),
      },
      nodes: ids.map((id) => ({ id, ...c.nodes[id]! })),
      cluster: c.cluster,
    },
  };
}

/**
 * Where two nodes of a config would listen on one address and port (the second one's `kafu serve` could not start,
 * or a peer would reach the wrong node): one issue per such node. Checked on every config read (config-file.ts),
 * after the schema: its issues name the node.
 */
export function sharedEndpoints(nodes: readonly NodeConfig[]): ConfigIssue[] {
  const taken = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  for (const n of nodes) {
    const ports: [number, (string | number)[]][] = [[n.port, ['nodes', n.id, 'port']]];
    if (n.browser) ports.push([n.browser.port, ['nodes', n.id, 'browser', 'port']]);
    for (const [port, path] of ports) {
      const key = `${n.address}:${port}`;
      const other = taken.get(key);
      if (other !== undefined) {
        issues.push({ path, message: `${key} is also node ${other}'s: give each node its own port` });
      } else taken.set(key, n.id);
    }
  }
  return issues;
}
