// Hostile Migrate calls into a real `kafu serve` node while the program runs elsewhere (test/support/fuzz.ts makes
// the calls). The program is comeback.c: it visits edge, sleeps on cloud while edge is attacked, and visits edge
// again, so the legitimate hand-off after the attack is a delta against the baseline edge kept through it.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadNodeTls, type NodeTls } from '../../src/serve/tls.js';
import { runCluster, type ClusterRun } from './cluster.js';
import { Rng, hostileMigrate, newTally, rawMigrate, seeds, fuzzHeader, type Tally } from './fuzz.js';
import type { MigrateStart } from '../../src/serve/protocol.js';

export interface ServeFuzzResult {
  tally: Tally;
  run: ClusterRun;
  /** Edge's resident memory (bytes) before the attack and at its end. */
  rss: { before: number; after: number };
  /** The 64 MiB stream that declared 1 byte: its status, and how long until it was answered (ms). */
  flood: { code: number; ms: number };
}

/** Resident set size of a process (Linux), in bytes. */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

export interface Attack {
  /** edge's gRPC address. */
  target: string;
  /** A Migrate start as cloud would send it (right module, from and to). */
  legit: MigrateStart;
  /** SHA-256 of the module. */
  sha: string;
  edge: ChildProcess;
  /** cloud's certificate (the nodes talk mutual TLS): rawMigrate's `auth`, as a member would call. */
  auth: { tls: NodeTls; node: string };
}

/**
 * Run comeback.c on cloud and edge; once it sleeps on cloud (edge idle, holding the baseline of the first hop), run
 * `attack` against edge, which must be over within `seconds`. Returns the run and edge's memory around the attack.
 */
export async function attackIdleNode(
  comebackWasm: string,
  dir: string,
  seconds: number,
  attack: (a: Attack) => Promise<void>,
): Promise<{ run: ClusterRun; rss: { before: number; after: number } }> {
  const sha = createHash('sha256').update(await readFile(comebackWasm)).digest('hex');
  const rss = { before: 0, after: 0 };
  const run = await runCluster(comebackWasm, {
    nodes: ['cloud', 'edge'],
    args: [String(Math.ceil(seconds) + 2)],
    output: 'first_node',
    dir,
    timeoutMs: seconds * 1000 + 60_000,
    whileRunning: async (c) => {
      await c.printed('cloud', 'cloud: sleeping');
      const port = Number([...(await readFile(join(dir, 'kafu-config.yaml'), 'utf8')).matchAll(/port: (\d+)/g)][1]![1]);
      const edge = c.procs.get('edge')!;
      rss.before = await rssOf(edge.pid!);
      const legit: MigrateStart = { from: 'cloud', to: 'edge', moduleSha256: sha, reason: 'attack', suspendedAtMs: Date.now(), totalBytes: 0, snapshotId: '', output: [] };
      const tls = loadNodeTls(join(dir, 'kafu-config.yaml'), { ca: './certs/ca.crt', cert: './certs/${node}.crt', key: './certs/${node}.key' }, 'cloud')!;
      await attack({ target: `127.0.0.1:${port}`, legit, sha, edge, auth: { tls, node: 'edge' } });
      if (edge.exitCode === null) rss.after = await rssOf(edge.pid!);
    },
  });
  return { run, rss };
}

/**
 * After attackIdleNode: the program finished as a run without the attack does (comeback.c's output), and its next
 * hop to the attacked node was still a delta (the node's baseline survived the refusals). `logs`: both nodes'.
 */
export function assertProgramUnharmed(run: ClusterRun, logs: string): void {
  assert.equal(run.nodes.cloud!.exitCode, 0, logs);
  assert.equal(run.nodes.edge!.exitCode, 0, logs);
  assert.equal(run.nodes.cloud!.stdout, 'edge: visit 1\ncloud: sleeping\nedge: visit 2\ncloud: total 30\n');
  assert.match(logs, /Program moved to edge: .*delta/, 'the next legitimate hop is still a delta');
}

/** Hostile Migrate calls into edge for `ms` while the program sleeps on cloud (attackIdleNode). */
export async function fuzzServe(comebackWasm: string, dir: string, seed: number, ms: number): Promise<ServeFuzzResult> {
  const tally = newTally();
  const rng = new Rng(seed);
  const flood = { code: -1, ms: 0 };
  const { run, rss } = await attackIdleNode(comebackWasm, dir, ms / 1000, async ({ target, legit, sha, edge, auth }) => {
    const all = seeds(rng, fuzzHeader(sha, 'edge'));
    // What the security review did: far more bytes than declared. Refused on the first chunk, not buffered.
    const mib = new Uint8Array(1 << 20);
    const t0 = performance.now();
    const floodCall = await rawMigrate(target, auth, [{ start: { ...legit, totalBytes: 1, snapshotId: 'flood' } }, ...Array.from({ length: 64 }, () => ({ data: mib }))], 20_000);
    [flood.code, flood.ms] = [floodCall.code, performance.now() - t0];
    const end = performance.now() + ms;
    while (performance.now() < end && edge.exitCode === null) {
      const n = tally.cases++;
      const call = hostileMigrate(rng, legit, all);
      tally.byKind[call.kind] = (tally.byKind[call.kind] ?? 0) + 1;
      const c0 = performance.now();
      // Half of them as MigrateWhole calls (start and data in one message), the other way in.
      const whole = rng.int(2) === 0;
      if (whole) tally.byKind['whole'] = (tally.byKind['whole'] ?? 0) + 1;
      const r = await rawMigrate(target, auth, call.messages, 10_000, whole);
      const took = performance.now() - c0;
      if (r.code === grpc.status.OK) tally.failures.push(`seed ${seed} call ${n} (${call.kind}): accepted`);
      else if (r.code === grpc.status.DEADLINE_EXCEEDED || took > 5000) tally.failures.push(`seed ${seed} call ${n} (${call.kind}): no answer in ${took.toFixed(0)} ms`);
      else if (r.code === grpc.status.INTERNAL || r.code === grpc.status.UNKNOWN) {
        tally.failures.push(`seed ${seed} call ${n} (${call.kind}): status ${r.code} ${r.details}`);
      } else tally.refusals++;
    }
    if (edge.exitCode !== null) tally.failures.push(`edge exited (${edge.exitCode}) during the attack`);
  });
  return { tally, run, rss, flood };
}
