// kafu-config.yaml: Kafu's keys, validated strictly (unknown keys are errors that name the field).
import { z } from 'zod';

const nonEmpty = (what: string) => z.string({ error: `${what} must be a string` }).min(1, `${what} must not be empty`);

const nodeSchema = z.strictObject({
  address: nonEmpty('address'),
  port: z.number({ error: 'port must be a number' }).int('port must be an integer').min(1).max(65535),
  placement: nonEmpty('placement').optional(),
});

const appSchema = z
  .strictObject({
    path: nonEmpty('path').optional(),
    url: z.url({ error: 'url must be a URL' }).optional(),
    args: z.array(z.string({ error: 'each arg must be a string' })).default([]),
    preopened_dir: nonEmpty('preopened_dir').optional(),
  })
  .refine((a) => (a.path === undefined) !== (a.url === undefined), {
    message: 'exactly one of app.path and app.url must be given',
  });

const clusterSchema = z.strictObject({
  heartbeat: z
    .strictObject({
      follower_on_coordinator_lost: z.enum(['shutdown_self', 'ignore']).default('shutdown_self'),
      interval_ms: z.number().int().min(10).default(1000),
    })
    .prefault({}),
  migration: z
    .strictObject({
      memory_migration: z.enum(['delta', 'full']).default('delta'),
      memory_compression: z.boolean().default(true),
    })
    .prefault({}),
});

export const configSchema = z.strictObject({
  name: nonEmpty('name'),
  app: appSchema,
  nodes: z
    .record(z.string().min(1, 'node id must not be empty'), nodeSchema, { error: 'nodes must be a map of node id → node' })
    .refine((n) => Object.keys(n).length > 0, { message: 'at least one node is required' }),
  cluster: clusterSchema.prefault({}),
});

export type KafuConfigInput = z.input<typeof configSchema>;

export interface NodeConfig {
  id: string;
  address: string;
  port: number;
  placement?: string;
}

export interface KafuConfig {
  name: string;
  app: { path?: string; url?: string; args: string[]; preopenedDir?: string };
  /** In file order: the first node starts the program. */
  nodes: NodeConfig[];
  cluster: z.output<typeof clusterSchema>;
}

export interface ConfigIssue {
  path: (string | number)[];
  message: string;
}

/** Validate parsed YAML; `nodeOrder` is the order of the ids in the file (JS objects reorder numeric keys). */
export function validateConfig(raw: unknown, nodeOrder: string[]): { config?: KafuConfig; issues: ConfigIssue[] } {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      issues: parsed.error.issues.map((i) => ({
        path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
        message: i.code === 'unrecognized_keys' ? `unknown key(s): ${i.keys.join(', ')}` : i.message,
      })),
    };
  }
  const c = parsed.data;
  const ids = nodeOrder.filter((id) => id in c.nodes);
  return {
    issues: [],
    config: {
      name: c.name,
      app: { path: c.app.path, url: c.app.url, args: c.app.args, preopenedDir: c.app.preopened_dir },
      nodes: ids.map((id) => ({ id, ...c.nodes[id]! })),
      cluster: c.cluster,
    },
  };
}

export function findNode(config: KafuConfig, id: string): NodeConfig | undefined {
  return config.nodes.find((n) => n.id === id);
}
