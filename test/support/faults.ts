// Fault injection for `kafu serve` (test/serve/faults.test.ts bounded, `npm run fault` long): real node processes on
// loopback over mutual TLS, running test/programs/serve/relay.c (numbered lines on cloud and edge, a hop per round),
// with one fault per run:
//   kill      kill -9 of one node at a random moment;
//   kill-checkpoint  the same with cluster.checkpoint: hops, and edge restarted 4 s after it was killed (as a
//             supervisor would; a first node restarted would start a new run, so it is not);
//   proxy     every connection between nodes goes through a TCP proxy that delays data and cuts connections in the
//             middle of what they carry (hand-offs, output, heartbeats);
//   disk-full edge is killed while the program is on cloud, whose folder for saved programs is a full file system.
// A run whose program was saved to a file is resumed (every node back, no fault) the way the log says. Each run is
// then one of: finished (no save), resumed (saved and finished from the file), lost; and its output — what the first
// node printed in both runs, plus what a node printed for it — is compared line by line with a plain run's.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeClusterCerts } from '../../src/certs/files.js';
import { KAFU_BIN } from './build.js';
import { freePorts, spawnKafu, type NodeRun, type SpawnedKafu } from './cluster.js';
import { Rng } from './fuzz.js';

export const FAULT_KINDS = ['kill', 'kill-checkpoint', 'proxy', 'disk-full'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
const NODES = ['cloud', 'edge'];

export interface FaultOptions {
  /** relay.c built with kafu clang. */
  wasm: string;
  /** relay.c's rounds and sleep per stretch (ms). */
  rounds: number;
  ms: number;
  /** Every line the program prints, in order (a plain run's stdout). */
  expected: string[];
}

export interface FaultRun {
  kind: FaultKind;
  seed: number;
  /** What was done, e.g. "kill -9 edge at 1234 ms (program on edge)". */
  fault: string;
  outcome: 'finished' | 'resumed' | 'lost';
  /** Why a program was lost, or what a node said. */
  detail: string;
  linesLost: number;
  linesDuplicated: number;
  /** Lines that arrived, but not in program order. */
  outOfOrder: boolean;
}

/** A TCP proxy to `target` that delays each chunk 0–maxDelayMs (order kept) and cuts connections mid-stream. */
export class FaultProxy {
  cuts = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly target: number,
    private readonly rng: Rng,
    private readonly o: { maxDelayMs: number; cutProbability: number; maxCuts: number },
  ) {
    this.server = createServer((client) => this.connect(client));
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }

  private connect(client: Socket): void {
    const upstream = createConnection(this.target, '127.0.0.1');
    // This connection is cut once it carried this many bytes (either way), if at all.
    const cutAfter = this.cuts < this.o.maxCuts && this.rng.chance(this.o.cutProbability) ? 200 + this.rng.int(60_000) : Infinity;
    let carried = 0;
    const both = [client, upstream];
    for (const s of both) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => both.forEach((x) => x.destroy()));
    }
    const pipe = (from: Socket, to: Socket) => {
      let last = Promise.resolve();
      from.on('data', (chunk: Buffer) => {
        carried += chunk.byteLength;
        if (carried > cutAfter) {
          if (!from.destroyed) this.cuts++;
          both.forEach((x) => x.destroy());
          return;
        }
        const delay = this.rng.int(this.o.maxDelayMs + 1);
        last = last.then(() => new Promise<void>((r) => setTimeout(r, delay))).then(() => void (to.destroyed || to.write(chunk)));
      });
      from.on('end', () => void last.then(() => to.end()));
    };
    pipe(client, upstream);
    pipe(upstream, client);
  }
}

/** Whether this machine lets an unprivileged process mount a small tmpfs in its own namespaces (disk-full runs). */
export function canMountTmpfs(): boolean {
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; rmdir "$d"'], {
    stdio: 'ignore',
  });
  return r.status === 0;
}

/**
 * Node configs: node X's own entry has the port it listens on, the others the port X dials for them (a proxy's, or
 * the same). Each node's config is in its own folder (its folder for saved programs); certificates are shared.
 */
async function writeConfigs(dir: string, modulePath: string, listen: number[], dial: number[], checkpoint: boolean): Promise<Record<string, string>> {
  const certs = join(dir, 'certs');
  await writeClusterCerts('fault', NODES.map((id, i) => ({ id, address: '127.0.0.1', port: listen[i]! })), certs, { days: 30 });
  const out: Record<string, string> = {};
  for (const [me, self] of NODES.entries()) {
    const lines = [
      'name: fault',
      'app:',
      `  path: ${JSON.stringify(modulePath)}`,
      '  args: ARGS',
      '  output: first_node',
      'nodes:',
      ...NODES.flatMap((id, i) => [`  ${id}:`, '    address: 127.0.0.1', `    port: ${i === me ? listen[i] : dial[i]}`]),
      'cluster:',
      '  heartbeat: { interval_ms: 200, follower_on_coordinator_lost: shutdown_self }',
      `  checkpoint: ${checkpoint ? 'hops' : 'off'}`,
      '  tls:',
      `    ca: ${JSON.stringify(join(certs, 'ca.crt'))}`,
      `    cert: ${JSON.stringify(join(certs, '${node}.crt'))}`,
      `    key: ${JSON.stringify(join(certs, '${node}.key'))}`,
    ];
    await mkdir(join(dir, self), { recursive: true });
    out[self] = join(dir, self, 'kafu-config.yaml');
    await writeFile(out[self], lines.join('\n') + '\n');
  }
  return out;
}

const SAVED = /The program is saved in (\S+\.kafusnap)/;

/** For `kill`: the victim and the moment instead of random ones: once the first node printed this line. */
export interface KillAt {
  victim: string;
  afterLine: string;
  /** And this long after it (a kill in the instant the first node printed a batch, before it acknowledged it, sees
   * that batch printed twice after resuming: see the README). */
  delayMs: number;
}

/** One run with one fault, resumed from a saved file if the run saved the program. */
export async function runFault(kind: FaultKind, seed: number, o: FaultOptions, killAt?: KillAt): Promise<FaultRun> {
  const rng = new Rng(seed);
  const dir = await mkdtemp(join(tmpdir(), 'kafu-fault-'));
  const proxies: FaultProxy[] = [];
  const procs: SpawnedKafu[] = [];
  const savedFiles: string[] = [];
  try {
    const modulePath = join(dir, 'relay.wasm');
    await symlink(o.wasm, modulePath);
    const ports = await freePorts(4);
    const listen = ports.slice(0, 2);
    const dial = kind === 'proxy' ? ports.slice(2) : listen;
    const checkpoint = kind === 'kill-checkpoint';
    const configs = await writeConfigs(dir, modulePath, listen, dial, checkpoint);
    const args = JSON.stringify([String(o.rounds), String(o.ms)]);
    for (const file of Object.values(configs)) {
      await writeFile(file, (await readFile(file, 'utf8')).replace('ARGS', args));
    }
    if (kind === 'proxy') {
      for (const i of [0, 1]) {
        const p = new FaultProxy(listen[i]!, rng, { maxDelayMs: 15, cutProbability: 0.7, maxCuts: 4 });
        await p.listen(dial[i]!);
        proxies.push(p);
      }
    }
    const start = (id: string, resume?: string) => {
      const flags = ['serve', '--node-id', id, '--peer-timeout', '8', ...(resume ? ['--resume', resume] : []), configs[id]!];
      const cwd = join(dir, id);
      if (kind === 'disk-full' && id === 'cloud' && !resume) return spawnOnFullDisk(flags, cwd);
      return spawnKafu(flags, cwd);
    };
    // The run with the fault.
    const run: Record<string, SpawnedKafu> = {};
    // edge first, and cloud once it listens: a slow start is not a fault under test.
    procs.push((run.edge = start('edge')));
    await run.edge.printed('listening on');
    procs.push((run.cloud = start('cloud')));
    const killer = setTimeout(() => procs.forEach((p) => p.proc.kill('SIGKILL')), 120_000);
    let fault = kind === 'proxy' ? 'proxy: delays up to 15 ms, connections cut mid-stream' : '';
    const duration = o.rounds * 2 * o.ms;
    const kill = kind === 'kill' || kind === 'kill-checkpoint';
    if (kill && killAt) {
      await run.cloud!.printed(`${killAt.afterLine}\n`);
      await new Promise((r) => setTimeout(r, killAt.delayMs));
      run[killAt.victim]!.proc.kill('SIGKILL');
      fault = `kill -9 ${killAt.victim} ${killAt.delayMs} ms after "${killAt.afterLine}" was printed`;
    } else if (kill) {
      const victim = NODES[rng.int(2)]!;
      await run.cloud!.printed('Program is starting');
      const at = rng.int(duration);
      await new Promise((r) => setTimeout(r, at));
      run[victim]!.proc.kill('SIGKILL');
      fault = `kill -9 ${victim} ${at} ms after the start`;
    }
    if (checkpoint && / edge /.test(fault)) {
      await run.edge!.done;
      await new Promise((r) => setTimeout(r, 4000));
      procs.push((run.edge = start('edge')));
      fault += ', restarted 4 s later';
    } else if (kind === 'disk-full') {
      await run.cloud!.printed('line 2 cloud');
      run.edge!.proc.kill('SIGKILL');
      fault = 'edge killed while the program is on cloud; cloud\'s folder is full';
    }
    const first: Record<string, NodeRun> = {};
    for (const id of NODES) first[id] = await run[id]!.done;
    clearTimeout(killer);
    for (const p of proxies) await p.close();
    if (kind === 'proxy') fault += ` (${proxies.reduce((n, p) => n + p.cuts, 0)} cut)`;
    let printed = first.cloud!.stdout;
    // A node that could neither deliver nor save prints the rest itself.
    if (first.edge!.exitCode !== 1 || !SAVED.test(first.edge!.stderr)) printed += first.edge!.stdout;
    const savedIn = NODES.map((id) => SAVED.exec(first[id]!.stderr)?.[1]).find((f) => f !== undefined);
    let outcome: FaultRun['outcome'];
    let detail = '';
    if (first.cloud!.exitCode === 0 && savedIn === undefined) outcome = 'finished';
    else if (savedIn !== undefined) {
      savedFiles.push(savedIn);
      const again: Record<string, SpawnedKafu> = {};
      for (const id of [...NODES].reverse()) procs.push((again[id] = start(id, id === 'cloud' ? savedIn : undefined)));
      const killer2 = setTimeout(() => procs.forEach((p) => p.proc.kill('SIGKILL')), 120_000);
      const resumed = await again.cloud!.done;
      await again.edge!.done;
      clearTimeout(killer2);
      printed += resumed.stdout;
      outcome = resumed.exitCode === 0 ? 'resumed' : 'lost';
      if (outcome === 'lost') detail = lastError(resumed.stderr);
    } else {
      outcome = 'lost';
      detail = NODES.map((id) => lastError(first[id]!.stderr)).filter((l) => l !== '').join(' | ');
    }
    return { kind, seed, fault, outcome, detail, ...compareLines(o.expected, printed) };
  } finally {
    for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
    for (const p of proxies) await p.close().catch(() => undefined);
    for (const f of savedFiles) if (!f.startsWith(dir)) await rm(f, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

/** `kafu serve` with its working folder (its folder for saved programs) on a full tmpfs of its own. */
function spawnOnFullDisk(args: string[], cwd: string): SpawnedKafu {
  const script = [
    'set -e',
    'src=$(mktemp -d)',
    'cp -a "$0"/. "$src"/',
    'mount -t tmpfs -o size=128k tmpfs "$0"',
    'cp -a "$src"/. "$0"/',
    'rm -rf "$src"',
    'dd if=/dev/zero of="$0/filler" bs=4k 2>/dev/null || true',
    'exec "$@"',
  ].join('\n');
  return spawnKafu([], cwd, undefined, { command: ['unshare', '-rm', 'sh', '-c', script, cwd, process.execPath, KAFU_BIN, ...args] });
}

function lastError(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => / ERROR /.test(l));
  return (lines.at(-1) ?? '').replace(/^\S+\s+ERROR\s+/, '').slice(0, 200);
}

/** Lines of `expected` missing from `actual`, lines seen more than once, and whether the rest keep program order. */
export function compareLines(expected: string[], actual: string): { linesLost: number; linesDuplicated: number; outOfOrder: boolean } {
  const got = actual.split('\n').filter((l) => l !== '');
  const counts = new Map<string, number>();
  for (const l of got) counts.set(l, (counts.get(l) ?? 0) + 1);
  const linesLost = expected.filter((l) => !counts.has(l)).length;
  const linesDuplicated = [...counts.values()].reduce((n, c) => n + Math.max(0, c - 1), 0);
  const order = new Map(expected.map((l, i) => [l, i]));
  const seq = got.map((l) => order.get(l) ?? -1);
  const outOfOrder = seq.some((v, i) => v === -1 || (i > 0 && v < seq[i - 1]!));
  return { linesLost, linesDuplicated, outOfOrder };
}

/** The table `npm run fault` prints and the README quotes. */
export function faultTable(runs: FaultRun[]): string {
  const rows = FAULT_KINDS.map((k) => {
    const rs = runs.filter((r) => r.kind === k);
    const n = (o: FaultRun['outcome']) => rs.filter((r) => r.outcome === o).length;
    // Lines are counted for the programs that were not lost (a lost one loses the rest of its output).
    const kept = rs.filter((r) => r.outcome !== 'lost');
    const sum = (f: (r: FaultRun) => number) => kept.reduce((a, r) => a + f(r), 0);
    return [k, rs.length, n('finished'), n('resumed'), n('lost'), sum((r) => r.linesLost), sum((r) => r.linesDuplicated), kept.filter((r) => r.outOfOrder).length];
  });
  const head = ['fault', 'runs', 'finished', 'saved+resumed', 'programs lost', 'lines lost', 'lines duplicated', 'out of order'];
  return [head, ...rows].map((r) => '| ' + r.join(' | ') + ' |').join('\n');
}
