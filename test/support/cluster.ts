// Running a compiled test program under `kafu serve`: one real process per node (`node bin/kafu.js serve
// --node-id …`), gRPC on loopback ports picked free for each run. Returns every node's stdout, stderr and exit
// code, so tests can compare a cluster run with a plain one.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeClusterCerts } from '../../src/certs/files.js';
import { KAFU_BIN } from './build.js';
import { PROGRAM_NAME } from './run.js';

export interface ClusterOptions {
  /** Node ids in config order: the first one starts the program. */
  nodes: string[];
  args?: string[];
  /** app.output (default local). */
  output?: 'local' | 'first_node';
  /** More YAML under `app:` (two-space indented lines), e.g. mounts. */
  appYaml?: string[];
  /** Per node: more YAML under it (four-space indented lines), e.g. `    browser: { port: 8080 }`. */
  nodeYaml?: Record<string, string[]>;
  /** YAML for the top-level `cluster:` key (indented lines). */
  clusterYaml?: string[];
  /** More flags for every `kafu serve` process. */
  flags?: string[];
  /** Per node: more flags (e.g. a different config). */
  nodeFlags?: Record<string, string[]>;
  /** Per node: how its `kafu` starts (another engine, engines.ts); default this checkout on this Node. */
  nodeLaunch?: Record<string, KafuLaunch>;
  /** Start nodes in this order (default: config order reversed, so the first node waits for nobody). */
  startOrder?: string[];
  /** Called once every process is spawned, e.g. to kill one once it printed something. */
  whileRunning?: (c: RunningCluster) => Promise<void> | void;
  /** Standard input of the first node (the others get none). */
  stdin?: string;
  /** Kill everything after this long (ms); a test that hits it fails. */
  timeoutMs?: number;
  /** Folder of the config (mount paths are relative to it) and working folder (default: a temporary one). */
  dir?: string;
  /**
   * `mtls` (the default): `kafu certs` material in DIR/certs and cluster.tls pointing at it, as in production;
   * `plaintext`: cluster.tls: plaintext.
   */
  tls?: 'mtls' | 'plaintext';
}

export interface NodeRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

export interface ClusterRun {
  nodes: Record<string, NodeRun>;
  /** Log messages of all nodes (without timestamp and level), in no particular order across nodes. */
  logs: string[];
  configPath: string;
}

export interface RunningCluster {
  procs: Map<string, ChildProcess>;
  /** Resolves once node `id` has written `text` to stdout or stderr. */
  printed(id: string, text: string): Promise<void>;
  /** What node `id` wrote to stderr so far (its log). */
  stderr(id: string): string;
  /** Kill node `id` (SIGKILL) and start it again; its result is then the new process's. */
  restart(id: string): Promise<void>;
}

/** Ports free right now on 127.0.0.1 (each bound and released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export async function clusterConfig(dir: string, modulePath: string, o: ClusterOptions): Promise<string> {
  const ports = await freePorts(o.nodes.length);
  const lines = [
    'name: cluster-test',
    'app:',
    `  path: ${JSON.stringify(modulePath)}`,
    `  args: ${JSON.stringify(o.args ?? [])}`,
    `  output: ${o.output ?? 'local'}`,
    ...(o.appYaml ?? []),
    'nodes:',
    ...o.nodes.flatMap((id, i) => [`  ${JSON.stringify(id)}:`, '    address: 127.0.0.1', `    port: ${ports[i]}`, ...(o.nodeYaml?.[id] ?? [])]),
    'cluster:',
    ...(o.clusterYaml ?? ['  heartbeat:', '    interval_ms: 200']),
    ...(o.tls === 'plaintext'
      ? ['  tls: plaintext']
      : ['  tls:', '    ca: ./certs/ca.crt', '    cert: ./certs/${node}.crt', '    key: ./certs/${node}.key']),
  ];
  if (o.tls !== 'plaintext') {
    await writeClusterCerts('cluster-test', o.nodes.map((id, i) => ({ id, address: '127.0.0.1', port: ports[i]! })), join(dir, 'certs'), { days: 30 });
  }
  const configPath = join(dir, 'kafu-config.yaml');
  await writeFile(configPath, lines.join('\n') + '\n');
  return configPath;
}

export interface SpawnedKafu {
  proc: ChildProcess;
  done: Promise<NodeRun>;
  printed(text: string): Promise<void>;
  /** What the process wrote to stdout so far. */
  stdoutSoFar(): string;
  /** What the process wrote to stderr so far. */
  stderrSoFar(): string;
}

/** How `kafu` is started: this checkout's bin/kafu.js, unless another install's command and environment are given. */
export interface KafuLaunch {
  command: string[];
  env?: NodeJS.ProcessEnv;
}

export function spawnKafu(args: string[], cwd: string, stdin?: string, launch?: KafuLaunch): SpawnedKafu {
  const [exe, ...pre] = launch?.command ?? [process.execPath, KAFU_BIN];
  const proc = spawn(exe!, [...pre, ...args], {
    cwd,
    env: launch?.env ?? process.env,
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (stdin !== undefined) proc.stdin!.end(stdin);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const waiters: { text: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  let closed = false;
  const check = () => {
    const all = Buffer.concat([...out, ...err]).toString('utf8');
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (all.includes(waiters[i]!.text)) waiters.splice(i, 1)[0]!.resolve();
    }
  };
  proc.stdout!.on('data', (b: Buffer) => (out.push(b), check()));
  proc.stderr!.on('data', (b: Buffer) => (err.push(b), check()));
  // A process that ends without printing what a test waits for fails that wait, with what it did print (a wait
  // that could never end would leave the test runner with an empty event loop and no clue).
  const ended = (text: string) =>
    new Error(`kafu ${args.join(' ')} exited (${proc.exitCode ?? proc.signalCode}) without printing ${JSON.stringify(text)}:\n${Buffer.concat([...out, ...err]).toString('utf8')}`);
  const printed = (text: string) =>
    new Promise<void>((resolve, reject) => {
      waiters.push({ text, resolve, reject });
      check();
      if (closed && waiters.some((w) => w.text === text)) reject(ended(text));
    });
  const done = new Promise<NodeRun>((resolve) => {
    proc.on('close', (code, signal) => {
      closed = true;
      check();
      for (const w of waiters.splice(0)) w.reject(ended(w.text));
      // A process ended by a signal says which at the end of its stderr (what a failed exit-code assertion shows).
      const said = Buffer.concat(err).toString('utf8') + (signal ? `\n[ended by ${signal}]\n` : '');
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: said, exitCode: code });
    });
  });
  return { proc, done, printed, stdoutSoFar: () => Buffer.concat(out).toString('utf8'), stderrSoFar: () => Buffer.concat(err).toString('utf8') };
}

/** Log messages in `stderr` (the part after "<time> <LEVEL> "). */
export function logMessages(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => /^\d{4}-\S+\s+[A-Z]+ (.*)$/.exec(l)?.[1])
    .filter((m): m is string => m !== undefined);
}

/** What a node says when another process took its port (see serve.ts). */
const PORT_TAKEN = 'the port is in use by another process';

/**
 * runClusterOnce, again on other ports when a node could not listen: ports are picked free (freePorts) but only
 * bound when the nodes start, and test files running side by side can take one in between.
 */
export async function runCluster(wasmPath: string, o: ClusterOptions): Promise<ClusterRun> {
  for (let attempt = 1; ; attempt++) {
    const seen: string[] = [];
    try {
      const run = await runClusterOnce(wasmPath, o, seen);
      if (attempt < 3 && Object.values(run.nodes).some((n) => n.stderr.includes(PORT_TAKEN))) continue;
      return run;
    } catch (e) {
      if (attempt < 3 && seen.some((t) => t.includes(PORT_TAKEN))) continue;
      throw e;
    }
  }
}

async function runClusterOnce(wasmPath: string, o: ClusterOptions, seen: string[]): Promise<ClusterRun> {
  const tmp = await mkdtemp(join(tmpdir(), 'kafu-cluster-'));
  const dir = o.dir ?? tmp;
  const procs = new Map<string, ChildProcess>();
  const runs = new Map<string, SpawnedKafu>();
  let killer: NodeJS.Timeout | undefined;
  try {
    const modulePath = join(tmp, PROGRAM_NAME);
    await symlink(wasmPath, modulePath);
    const configPath = await clusterConfig(dir, modulePath, o);
    const start = (id: string) => {
      const args = ['serve', '--node-id', id, ...(o.flags ?? []), ...(o.nodeFlags?.[id] ?? []), configPath];
      const run = spawnKafu(args, dir, id === o.nodes[0] ? o.stdin : undefined, o.nodeLaunch?.[id]);
      procs.set(id, run.proc);
      runs.set(id, run);
    };
    killer = setTimeout(() => {
      for (const p of procs.values()) p.kill('SIGKILL');
    }, o.timeoutMs ?? 60_000);
    for (const id of o.startOrder ?? [...o.nodes].reverse()) {
      // The first node gives the others --peer-timeout to answer: on a loaded machine a short one (a test of a
      // failure) can run out while they load, so it starts once those started before it listen (or ended).
      if (id === o.nodes[0]) await Promise.all([...runs.values()].map((r) => r.printed('listening on').catch(() => undefined)));
      start(id);
    }
    await o.whileRunning?.({
      procs,
      printed: (id, text) => runs.get(id)!.printed(text),
      stderr: (id) => runs.get(id)!.stderrSoFar(),
      restart: async (id) => {
        procs.get(id)!.kill('SIGKILL');
        await runs.get(id)!.done;
        start(id);
      },
    });
    const nodes: Record<string, NodeRun> = {};
    for (const [id, run] of runs) nodes[id] = await run.done;
    clearTimeout(killer);
    return { nodes, logs: Object.values(nodes).flatMap((n) => logMessages(n.stderr)), configPath };
  } finally {
    clearTimeout(killer);
    for (const p of procs.values()) if (p.exitCode === null) p.kill('SIGKILL');
    for (const run of runs.values()) seen.push((await run.done).stderr);
    await rm(tmp, { recursive: true, force: true });
  }
}
