// Socket test harness: a C server program (test/programs/sockets/) run as a real process — `kafu run --tcplisten`
// (no migration), `kafu singlenode serve` or a `kafu serve` cluster with a listener in app.listen — while real TCP
// clients of this process talk to it on 127.0.0.1. Returns the program's output and exit code and what the clients
// saw, so that tests compare a migrating run with a plain one whole.
import { connect, type Socket } from 'node:net';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWasm } from './build.js';
import { freePorts, runCluster, spawnKafu, type ClusterRun, type RunningCluster } from './cluster.js';

export type SocketMode =
  | { kind: 'run' }
  | { kind: 'singlenode'; forceEvery?: number }
  /** `whileRunning` gets the cluster and its folder (the config and certificates); `clusterYaml`, `flags`: as runCluster's. */
  | {
      kind: 'serve';
      forceEvery?: number;
      listenNode?: string;
      whileRunning?: (c: RunningCluster, dir: string) => Promise<void>;
      clusterYaml?: string[];
      flags?: string[];
    };

export interface SocketRun<T> {
  stdout: string;
  exitCode: number | null;
  clients: T;
  /** kafu serve only: every node's result. */
  cluster?: ClusterRun;
  /** Runtime log (stderr) of the process, or of every node. */
  stderr: string;
}

/** The program's two builds: plain (kafu run) and with system-call migration points (forced migrations). */
export async function socketProgram(name: string): Promise<{ plain: string; migrating: string }> {
  const sources = [`test/programs/sockets/${name}.c`];
  const plain = await buildWasm({ sources, args: ['-O1'], instrument: false });
  const migrating = await buildWasm({ sources, args: ['-O1', '--kafu-syscall-points'] });
  return { plain, migrating };
}

export const NODES = ['cloud', 'edge'];

/** Run `wasm` in `mode` with a listener on a free port; `clients(port)` runs meanwhile (it must finish the program). */
export async function runWithClients<T>(
  wasm: string,
  mode: SocketMode,
  args: string[],
  clients: (port: number) => Promise<T>,
  timeoutMs = 90_000,
): Promise<SocketRun<T>> {
  const [port] = await freePorts(1);
  if (mode.kind === 'serve') {
    let result: T | undefined;
    const dir = await mkdtemp(join(tmpdir(), 'kafu-sockets-'));
    const cluster = await runCluster(wasm, {
      dir,
      nodes: NODES,
      args,
      output: 'first_node', // the program's output in program order, on the first node
      appYaml: ['  listen:', `    - { address: 127.0.0.1, port: ${port}${mode.listenNode ? `, node: ${mode.listenNode}` : ''} }`],
      flags: [...(mode.forceEvery ? ['--force-migration-every', String(mode.forceEvery)] : []), ...(mode.flags ?? [])],
      clusterYaml: mode.clusterYaml,
      timeoutMs,
      whileRunning: async (c) => {
        const [r] = await Promise.all([clients(port!), mode.whileRunning?.(c, dir)]);
        result = r;
      },
    }).finally(() => rm(dir, { recursive: true, force: true }));
    const first = cluster.nodes[NODES[0]!]!;
    return {
      stdout: first.stdout,
      exitCode: first.exitCode,
      clients: result as T,
      cluster,
      stderr: Object.values(cluster.nodes).map((n) => n.stderr).join(''),
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'kafu-sockets-'));
  try {
    let argv: string[];
    if (mode.kind === 'run') {
      argv = ['run', '--tcplisten', `127.0.0.1:${port}`, wasm, ...args];
    } else {
      await symlink(wasm, join(dir, 'prog.wasm'));
      const config = {
        name: 'sockets',
        app: { path: './prog.wasm', args, listen: [{ address: '127.0.0.1', port }] },
        nodes: Object.fromEntries(NODES.map((id, i) => [id, { address: '127.0.0.1', port: 1 + i }])),
      };
      await writeFile(join(dir, 'kafu-config.yaml'), JSON.stringify(config));
      argv = ['singlenode', 'serve', 'kafu-config.yaml', ...(mode.forceEvery ? ['--force-migration-every', String(mode.forceEvery)] : [])];
    }
    const proc = spawnKafu(argv, dir);
    const killer = setTimeout(() => proc.proc.kill('SIGKILL'), timeoutMs);
    try {
      const result = await clients(port!);
      const done = await proc.done;
      return { stdout: done.stdout, exitCode: done.exitCode, clients: result, stderr: done.stderr };
    } finally {
      clearTimeout(killer);
      if (proc.proc.exitCode === null) proc.proc.kill('SIGKILL');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A connection to 127.0.0.1:`port`, retried while the server is not listening yet (bounded). */
export async function connectTo(port: number, withinMs = 60_000): Promise<Socket> {
  const end = Date.now() + withinMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.off('error', reject);
          resolve(s);
        });
        s.once('error', reject);
      });
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A connection's reader: `until(n)` resolves with the first n bytes received (fewer if it ended), in order. */
export function reader(s: Socket): { until(n: number): Promise<Buffer>; ended: Promise<Buffer> } {
  const chunks: Buffer[] = [];
  let have = 0;
  let done = false;
  const waiters: Array<{ n: number; resolve: (b: Buffer) => void }> = [];
  const check = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (have >= w.n || done) {
        waiters.splice(i, 1);
        w.resolve(Buffer.concat(chunks).subarray(0, w.n));
      }
    }
  };
  const ended = new Promise<Buffer>((resolve) => {
    const end = () => {
      done = true;
      check();
      resolve(Buffer.concat(chunks));
    };
    s.on('end', end);
    s.on('close', end);
    s.on('error', () => undefined);
  });
  s.on('data', (b: Buffer) => {
    chunks.push(b);
    have += b.length;
    check();
  });
  return {
    until: (n) =>
      new Promise((resolve) => {
        waiters.push({ n, resolve });
        check();
      }),
    ended,
  };
}
