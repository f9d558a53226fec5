// Hostile Migrate calls into a real `kafu serve` node while the program runs elsewhere (test/support/fuzz.ts makes
// the calls). The program is comeback.c: it visits edge, sleeps on cloud while edge is attacked, and visits edge
// again, so the legitimate hand-off after the attack is a delta against the baseline edge kept through it.
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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

/**
 * Run comeback.c on cloud and edge; once it sleeps on cloud, attack edge with hostile Migrate calls for `ms`.
 * Every call must get an error status in bounded time and edge must stay up; the caller checks the run's result.
 */
export async function fuzzServe(comebackWasm: string, dir: string, seed: number, ms: number): Promise<ServeFuzzResult> {
  const tally = newTally();
  const rng = new Rng(seed);
  const sha = createHash('sha256').update(await readFile(comebackWasm)).digest('hex');
  const all = seeds(rng, fuzzHeader(sha, 'edge'));
  const rss = { before: 0, after: 0 };
  const flood = { code: -1, ms: 0 };
  const sleepSeconds = Math.ceil(ms / 1000) + 2;
  const run = await runCluster(comebackWasm, {
    nodes: ['cloud', 'edge'],
    args: [String(sleepSeconds)],
    output: 'first_node',
    dir,
    timeoutMs: ms + 60_000,
    whileRunning: async (c) => {
      await c.printed('cloud', 'cloud: sleeping');
      const port = Number([...(await readFile(join(dir, 'kafu-config.yaml'), 'utf8')).matchAll(/port: (\d+)/g)][1]![1]);
      const target = `127.0.0.1:${port}`;
      const edge = c.procs.get('edge')!;
      rss.before = await rssOf(edge.pid!);
      const legit: MigrateStart = {
        from: 'cloud',
        to: 'edge',
        moduleSha256: sha,
        reason: 'fuzz',
        suspendedAtMs: Date.now(),
        totalBytes: 0,
        snapshotId: '',
        output: [],
      };
      // What the security review did: far more bytes than declared. Refused on the first chunk, not buffered.
      const mib = new Uint8Array(1 << 20);
      const t0 = performance.now();
      const floodCall = await rawMigrate(target, [{ start: { ...legit, totalBytes: 1, snapshotId: 'flood' } }, ...Array.from({ length: 64 }, () => ({ data: mib }))], 20_000);
      [flood.code, flood.ms] = [floodCall.code, performance.now() - t0];
      const end = performance.now() + ms;
      while (performance.now() < end && edge.exitCode === null) {
        const n = tally.cases++;
        const call = hostileMigrate(rng, legit, all);
        tally.byKind[call.kind] = (tally.byKind[call.kind] ?? 0) + 1;
        const c0 = performance.now();
        const r = await rawMigrate(target, call.messages, 10_000);
        const took = performance.now() - c0;
        if (r.code === grpc.status.OK) tally.failures.push(`seed ${seed} call ${n} (${call.kind}): accepted`);
        else if (r.code === grpc.status.DEADLINE_EXCEEDED || took > 5000) tally.failures.push(`seed ${seed} call ${n} (${call.kind}): no answer in ${took.toFixed(0)} ms`);
        else if (r.code === grpc.status.INTERNAL || r.code === grpc.status.UNKNOWN) {
          tally.failures.push(`seed ${seed} call ${n} (${call.kind}): status ${r.code} ${r.details}`);
        } else tally.refusals++;
      }
      if (edge.exitCode !== null) tally.failures.push(`edge exited (${edge.exitCode}) during the attack`);
      else rss.after = await rssOf(edge.pid!);
    },
  });
  return { tally, run, rss, flood };
}
