// npm run bench:serve — migration downtime between two `kafu serve` processes on loopback (gRPC over mutual TLS,
// worker threads, real snapshots, the default cluster.migration: deltas and compression), for the cases of issue
// 11: a small program's warm hops, a 64 MiB heap with a tenth of its pages changed per hop, and first hops of 64 and
// 256 MiB heaps. Downtime is what the sending node logs: from the program stopping there to it running on the other
// node. Prints p50/p90/max and the bytes sent for each case, where the time goes (the nodes' debug log: encode and
// the copy of the body's first part on the sender, decode and restore on the receiver, the rest is the wire and the
// messages between threads), and the same-run baseline each case is compared with: one copy of the bytes the hop
// must carry (the heap for a first hop, the changed pages for a later one) plus, for a later hop, one pass over the
// heap, as measured in this process.
//
// The "after work" cases (heap_work.c) fill the heap and then work a while (a million steps for 64 MiB, three for
// 256 MiB, each a WASI call, one page in ten thousand steps changed) before the first hop: pre-copy (cluster.migration.precopy, README "Pre-copy")
// sends the heap ahead meanwhile. Their runs alternate pre-copy on and off (direct transport), and the `work` column
// is the program's own time for its work phase (p50), which pre-copy's rounds slow.
//
//   npm run bench:serve                 all cases
//   npm run bench:serve -- --quick      tiny sizes, a few hops (what CI runs: a check that it works, not a timing)
//   npm run bench:serve -- --plaintext  tls: plaintext instead of mutual TLS
//   npm run bench:serve -- --only=first  the cases whose name contains "first"
//   npm run bench:serve -- --log        each run's pre-copy and hand-off lines from both nodes' debug logs
//   npm run bench:serve -- --transport=direct|grpc  one hand-off transport only (default: both, runs alternated,
//                                       a row each: the direct transport, handoff-transport.ts, and gRPC's Migrate)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeClusterCerts } from '../src/certs/files.js';
import { KAFU_BIN, buildWasm } from '../test/support/build.js';
import { freePorts, logMessages } from '../test/support/cluster.js';
import { copyMs, fmt, percentiles, scanMs } from './stats.js';

interface Case {
  name: string;
  mb: number;
  /** Percent of the heap's pages changed before each hop. */
  dirty: number;
  /** Round trips per run. */
  hops: number;
  runs: number;
  /** Which hops the case is about: the first of each run, or every later one. */
  measure: 'first' | 'later';
  /** The issue's target for p50, ms. */
  target: number;
  /** heap_work.c: steps of work before the first hop, and one page changed in this many. */
  work?: { iters: number; touchEvery: number };
}

const quick = process.argv.includes('--quick');
const plaintext = process.argv.includes('--plaintext');
const showLog = process.argv.includes('--log');
const CASES: Case[] = quick
  ? [
      { name: 'small program, warm hop', mb: 1, dirty: 10, hops: 3, runs: 1, measure: 'later', target: 1.5 },
      { name: '4 MiB heap, 10 % dirtied', mb: 4, dirty: 10, hops: 2, runs: 1, measure: 'later', target: 25 },
      { name: '4 MiB heap, first hop', mb: 4, dirty: 10, hops: 1, runs: 1, measure: 'first', target: 120 },
      { name: '4 MiB first hop after work', mb: 4, dirty: 10, hops: 1, runs: 1, measure: 'first', target: 120, work: { iters: 100_000, touchEvery: 1000 } },
    ]
  : [
      { name: 'small program, warm hop', mb: 1, dirty: 10, hops: 40, runs: 1, measure: 'later', target: 1.5 },
      { name: '64 MiB heap, 10 % dirtied', mb: 64, dirty: 10, hops: 15, runs: 1, measure: 'later', target: 25 },
      { name: '64 MiB heap, first hop', mb: 64, dirty: 10, hops: 1, runs: 5, measure: 'first', target: 120 },
      { name: '256 MiB heap, first hop', mb: 256, dirty: 10, hops: 1, runs: 3, measure: 'first', target: 450 },
      { name: '64 MiB first hop after work', mb: 64, dirty: 10, hops: 1, runs: 5, measure: 'first', target: 120, work: { iters: 1_000_000, touchEvery: 10_000 } },
      { name: '256 MiB first hop after work', mb: 256, dirty: 10, hops: 1, runs: 3, measure: 'first', target: 450, work: { iters: 3_000_000, touchEvery: 30_000 } },
    ];

const dir = mkdtempSync(join(tmpdir(), 'kafu-bench-serve-'));
const TLS = plaintext ? '  tls: plaintext' : '  tls: { ca: ./certs/ca.crt, cert: "./certs/${node}.crt", key: "./certs/${node}.key" }';

type Transport = 'direct' | 'grpc';
/** A row: a transport, or for the "after work" cases pre-copy on or off (direct transport). */
type Variant = Transport | 'pre-copy' | 'no pre-copy';
const transportArg = process.argv.find((a) => a.startsWith('--transport='))?.slice('--transport='.length);
const TRANSPORTS: Transport[] = transportArg === 'direct' || transportArg === 'grpc' ? [transportArg] : ['direct', 'grpc'];

/** A node's process: its pid at once, its output once it ends; `onStderr` sees its log as it comes. */
function runNode(id: string, config: string, transport: Variant, onStderr?: (text: string) => void) {
  const args = [KAFU_BIN, 'serve', '--log-level', 'debug', '--node-id', id, config];
  // KAFU_HANDOFF=grpc: hand the program on with gRPC's Migrate (peers.ts), the transport before the direct one.
  const env = { ...process.env, KAFU_HANDOFF: transport === 'grpc' ? 'grpc' : '' };
  const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const [out, err]: Buffer[][] = [[], []];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => {
      err.push(b);
      onStderr?.(b.toString('utf8'));
    });
    p.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
  return { pid: p.pid, done };
}

/**
 * CPU ms a process has used so far, all its threads (Linux /proc; NaN elsewhere). A first hop's CPU, both processes
 * together, says more than its wall time on a busy machine, and whether the two cores were the limit (downtime near
 * half of it).
 */
function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [utime, stime] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(11, 13).map(Number);
    return ((utime! + stime!) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
/** Linux's USER_HZ (what /proc counts CPU time in): 100 on every usual build. */
const CLOCK_TICKS = 100;

const toBytes = (text: string) => {
  const [, n, unit] = /([\d.]+) (B|KB|MB)/.exec(text)!;
  return Number(n) * (unit === 'MB' ? 2 ** 20 : unit === 'KB' ? 1024 : 1);
};

/** One hop as the two nodes logged it. */
interface Hop {
  downtimeMs: number;
  bytes: number;
  encodeMs: number;
  /** From the end of encoding to the body's first part ready to send (the copy the wire waits for). */
  copyMs: number;
  decodeMs: number;
  restoreMs: number;
  /** heap_work.c's work phase, ms (the "after work" cases). */
  workMs?: number;
  /** CPU ms both processes used from the first hop's start (the sender's "Migration" line) to its end ("Program moved"). */
  cpuMs?: number;
}

/** A node's hops in order: its sends ("Program moved", "hand-off") and the other node's receipts ("resumed in"). */
function hops(sender: string[], receiver: string[]): Hop[] {
  const moved = sender.map((l) => /^Program moved to \S+: (.*) sent .*downtime ([\d.]+) ms$/.exec(l)).filter((m) => m !== null);
  const encode = sender.map((l) => /^hand-off to \S+: encode ([\d.]+) ms/.exec(l)).filter((m) => m !== null);
  const copy = sender.map((l) => /^body of \d+ bytes in \d+ parts: the first copied ([\d.]+) ms/.exec(l)).filter((m) => m !== null);
  const resumed = receiver.map((l) => /^resumed in .*: decode ([\d.]+) ms, restore ([\d.]+) ms$/.exec(l)).filter((m) => m !== null);
  return moved.map((m, i) => ({
    downtimeMs: Number(m[2]),
    bytes: toBytes(m[1]!),
    encodeMs: Number(encode[i]?.[1] ?? NaN),
    copyMs: Number(copy[i]?.[1] ?? NaN),
    decodeMs: Number(resumed[i]?.[1] ?? NaN),
    restoreMs: Number(resumed[i]?.[2] ?? NaN),
  }));
}

try {
  if (!plaintext) {
    await writeClusterCerts('bench', ['cloud', 'edge'].map((id) => ({ id, address: '127.0.0.1', port: 1 })), join(dir, 'certs'), { days: 30 });
  }
  const wasm = await buildWasm({ sources: ['bench/programs/heap_hops.c'], args: ['-O2'] });
  const workWasm = await buildWasm({ sources: ['bench/programs/heap_work.c'], args: ['-O2'] });
  console.log(`bench/programs/heap_hops.c between two kafu serve processes (loopback, ${plaintext ? 'plaintext' : 'mutual TLS'}), default cluster.migration`);
  console.log('downtime ms: p50 / p90 / max over the hops measured; sent: mean bytes per hop; breakdown: means, ms (encode, and copy:');
  console.log("the body's first part into the buffer sent, on the sender; decode, restore on the receiver; wire = downtime - those);");
  console.log('baseline: one copy of what the hop carries (+ one pass over');
  console.log('the heap for later hops) in this process, ms; ratio = p50 / baseline; target: issue 11 (p50);');
  console.log('cpu: first hops, CPU ms both processes used during the hop (p50; /proc, all threads; on two cores the');
  console.log('downtime cannot be below half of it)');
  console.log('');
  console.log(
    'case                         transport    hops     p50     p90     max      sent   encode   copy  decode restore    wire  baseline  ratio  target   work     cpu',
  );
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  for (const c of CASES.filter((x) => !only || x.name.includes(only))) {
    const variants: Variant[] = c.work ? ['pre-copy', 'no pre-copy'] : TRANSPORTS;
    const measured = new Map<Variant, Hop[]>(variants.map((t) => [t, []]));
    // The variants' runs alternate: a machine busy with something else slows both alike.
    for (const [run, transport] of Array.from({ length: c.runs }, (_, i) => i).flatMap((i) => variants.map((t) => [i, t] as const))) {
      const [p1, p2] = await freePorts(2);
      const config = join(dir, `kafu-config.yaml`);
      // (The immediate first hops start no rounds: heap_hops.c makes no WASI call before it.)
      const app = c.work
        ? `  path: ${workWasm}\n  args: ["${c.mb}", "${c.work.iters}", "${c.work.touchEvery}", "${c.hops}", "timed"]\n`
        : `  path: ${wasm}\n  args: ["${c.mb}", "${c.hops}", "${c.dirty}"]\n`;
      writeFileSync(
        config,
        `name: bench\napp:\n${app}` +
          `nodes:\n  cloud: { address: 127.0.0.1, port: ${p1} }\n  edge: { address: 127.0.0.1, port: ${p2} }\n` +
          `cluster:\n  migration: { memory_migration: delta, memory_compression: true, precopy: ${transport === 'no pre-copy' ? 'off' : 'auto'} }\n${TLS}\n`,
      );
      // Both processes' CPU when cloud's first hop starts and when it ends (read as cloud logs them).
      const cpu: number[] = [];
      const edgeNode = runNode('edge', config, transport);
      const marks = ['Migration cloud -> edge', 'Program moved to edge'];
      const cloudNode = runNode('cloud', config, transport, (text) => {
        for (const line of text.split('\n')) if (cpu.length < 2 && line.includes(marks[cpu.length]!)) cpu.push(cpuMs(cloudNode.pid) + cpuMs(edgeNode.pid));
      });
      const [edge, cloud] = await Promise.all([edgeNode.done, cloudNode.done]);
      if (cloud.code !== 0 || edge.code !== 0) throw new Error(`run failed:\n${cloud.stderr}\n${edge.stderr}`);
      const [cloudLog, edgeLog] = [logMessages(cloud.stderr), logMessages(edge.stderr)];
      const out = hops(cloudLog, edgeLog);
      const back = hops(edgeLog, cloudLog);
      // The first hop is cloud's first; the others alternate (cloud → edge, edge → cloud).
      const workMs = Number(/^work ([\d.]+) ms$/m.exec(cloud.stdout)?.[1] ?? NaN);
      if (showLog) {
        // (--log: what pre-copy and the first hop did, from both nodes' debug logs, for one run of each variant.)
        const pick = (who: string, stderr: string) => stderr.split('\n').filter((l) => /pre-copy|hand-off to|resumed in|Program moved/.test(l)).map((l) => `  ${who} ${l}`);
        console.log(`${c.name} ${transport} run ${run}:\n${[...pick('cloud', cloud.stderr), ...pick('edge ', edge.stderr)].sort((a, b) => a.slice(8).localeCompare(b.slice(8))).join('\n')}`);
      }
      if (c.measure === 'first') measured.get(transport)!.push({ ...out[0]!, workMs, cpuMs: cpu.length === 2 ? cpu[1]! - cpu[0]! : NaN });
      else measured.get(transport)!.push(...out.slice(1), ...back);
    }
    for (const [transport, hops] of measured) report(c, transport, hops);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function report(c: Case, transport: Variant, measured: Hop[]): void {
  const d = percentiles(measured.map((h) => h.downtimeMs));
  const mean = (f: (h: Hop) => number) => measured.reduce((n, h) => n + f(h), 0) / measured.length;
  const sent = mean((h) => h.bytes);
  const [encode, copy, decode, restore] = [mean((h) => h.encodeMs), mean((h) => h.copyMs), mean((h) => h.decodeMs), mean((h) => h.restoreMs)];
  const heap = c.mb * 2 ** 20;
  const baseline = c.measure === 'first' ? copyMs(heap) : copyMs(Math.max(65536, (heap * c.dirty) / 100)) + scanMs(heap);
  console.log(
    `${c.name.padEnd(28)} ${transport.padEnd(11)} ${String(measured.length).padStart(5)} ${fmt(d.p50, 7)} ${fmt(d.p90, 7)} ${fmt(d.max, 7)} ` +
      `${(sent >= 2 ** 20 ? `${(sent / 2 ** 20).toFixed(1)} MB` : `${(sent / 1024).toFixed(1)} KB`).padStart(9)} ` +
      `${fmt(encode, 8)} ${fmt(copy, 6)} ${fmt(decode, 7)} ${fmt(restore, 7)} ${fmt(d.mean - encode - copy - decode - restore, 7)} ` +
      `${fmt(baseline, 9)} ${('x' + (d.p50 / baseline).toFixed(1)).padStart(6)} ${fmt(c.target, 7)}` +
      (c.work ? ` ${fmt(percentiles(measured.map((h) => h.workMs!)).p50, 6)}` : c.measure === 'first' ? ''.padStart(7) : '') +
      (c.measure === 'first' ? ` ${fmt(percentiles(measured.map((h) => h.cpuMs!)).p50, 7)}` : ''),
  );
}
