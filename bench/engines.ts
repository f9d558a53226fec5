// npm run bench:engines — Kafu on each JavaScript engine (Node, Bun, Deno), side by side:
//  1. migration downtime between two `kafu serve` processes for every pairing of engines (cloud on one, edge on the
//     other; mutual TLS, default migration settings), from the nodes' own log: p50, p90 and max per direction,
//     and each pairing's p50 against Node↔Node's;
//  2. instrumentation overhead on each engine: bench/programs/compute.c, plain and instrumented, run without
//     migration through the library OS (in-process, start-up not counted), median of --runs (11).
// `npm run bench:engines -- --hops 50 --heap 1 --runs 11` sets the round trips and heap MB of part 1 and the runs of
// part 2; `--only deno-bun` runs part 1 for that pairing alone.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeClusterCerts } from '../src/certs/files.js';
import { compile } from '../src/clang/index.js';
import { repoRoot } from '../test/support/build.js';
import { freePorts, logMessages, type KafuLaunch } from '../test/support/cluster.js';
import { ENGINES, launchOf, missingEngines, scriptOn, type Engine } from '../test/support/engines.js';

const flag = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const hops = flag('hops', 30);
/** `--only deno-bun` runs that pairing alone. */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const heapMb = flag('heap', 1);
const runs = flag('runs', 11);
const missing = missingEngines(ENGINES);
const engines = ENGINES.filter((e) => missingEngines([e]).length === 0);
for (const m of missing) console.log(`skipped ${m}`);

const dir = mkdtempSync(join(tmpdir(), 'kafu-bench-engines-'));
const quiet = { log: () => {}, stderr: (t: string) => void process.stderr.write(t) };

function run(launch: KafuLaunch, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [exe, ...pre] = launch.command;
  return new Promise((resolve) => {
    const p = spawn(exe!, [...pre, ...args], { cwd: repoRoot, env: launch.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000); // a hung node shows as a failed pairing
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      // (A process ended by a signal says which: that is what a failed pairing's message shows.)
      const said = Buffer.concat(err).toString('utf8') + (signal ? `\n[ended by ${signal}]\n` : '');
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: said });
    });
  });
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const median = (xs: number[]) => quantile(xs, 0.5);
const f1 = (n: number) => n.toFixed(1);

async function build(source: string, instrument: boolean, name: string): Promise<string> {
  const file = join(dir, name);
  const code = await compile(['-O2', source, '-o', file], { lang: 'c', cwd: repoRoot, instrument, ...quiet });
  if (code !== 0) throw new Error(`compile of ${source} failed`);
  return file;
}

/** Downtimes (ms) of hops cloud→edge and edge→cloud, from the senders' "Program moved" lines. */
async function pairing(cloud: Engine, edge: Engine, wasm: string): Promise<{ out: number[]; back: number[] }> {
  const [p1, p2] = await freePorts(2);
  const config = join(dir, `kafu-config-${cloud}-${edge}.yaml`);
  writeFileSync(
    config,
    `name: bench\napp:\n  path: ${wasm}\n  args: ["${heapMb}", "${hops}"]\nnodes:\n  cloud: { address: 127.0.0.1, port: ${p1} }\n` +
      `  edge: { address: 127.0.0.1, port: ${p2} }\ncluster:\n  tls: { ca: ./certs/ca.crt, cert: "./certs/\${node}.crt", key: "./certs/\${node}.key" }\n`,
  );
  const [e, c] = await Promise.all([run(launchOf(edge), ['serve', '--node-id', 'edge', config]), run(launchOf(cloud), ['serve', '--node-id', 'cloud', config])]);
  if (c.code !== 0 || e.code !== 0) throw new Error(`${cloud}→${edge} failed:\n${c.stderr}\n${e.stderr}`);
  const downtimes = (stderr: string) =>
    logMessages(stderr)
      .map((l) => /^Program moved to \S+: .*downtime ([\d.]+) ms$/.exec(l)?.[1])
      .filter((m): m is string => m !== undefined)
      .map(Number);
  return { out: downtimes(c.stderr), back: downtimes(e.stderr) };
}

try {
  await writeClusterCerts('bench', ['cloud', 'edge'].map((id) => ({ id, address: '127.0.0.1', port: 1 })), join(dir, 'certs'), { days: 30 });
  const heapHops = await build('bench/programs/heap_hops.c', true, 'heap_hops.wasm');
  console.log(`migration downtime, bench/programs/heap_hops.c (${heapMb} MB heap, ${hops} round trips), two kafu serve processes, mTLS`);
  console.log('cloud → edge    hops  p50 ms  p90 ms  max ms   back: p50 ms  p90 ms  max ms   p50 all  vs node↔node');
  let base = NaN;
  for (const cloud of engines) {
    for (const edge of engines) {
      if (only !== undefined && only !== `${cloud}-${edge}`) continue;
      let out: number[];
      let back: number[];
      try {
        ({ out, back } = await pairing(cloud, edge, heapHops));
      } catch (e) {
        // One failed pairing is reported and the table goes on.
        console.log(`${`${cloud} → ${edge}`.padEnd(14)} failed: ${(e as Error).message.split('\n').filter((l) => /ended by|ERROR|exited/.test(l)).join(' | ') || 'see stderr'}`);
        console.error((e as Error).message);
        continue;
      }
      const all = [...out, ...back];
      if (cloud === 'node' && edge === 'node') base = median(all);
      console.log(
        `${`${cloud} → ${edge}`.padEnd(14)} ${String(all.length).padStart(5)}  ${f1(median(out)).padStart(6)}  ${f1(quantile(out, 0.9)).padStart(6)}  ` +
          `${f1(Math.max(...out)).padStart(6)}   ${f1(median(back)).padStart(11)}  ${f1(quantile(back, 0.9)).padStart(6)}  ${f1(Math.max(...back)).padStart(6)}   ` +
          `${f1(median(all)).padStart(7)}  ${('x' + (median(all) / base).toFixed(2)).padStart(11)}`,
      );
    }
  }
  console.log('');
  const plain = await build('bench/programs/compute.c', false, 'compute.plain.wasm');
  const kafu = await build('bench/programs/compute.c', true, 'compute.wasm');
  const helper = join(repoRoot, 'dist', 'bench', 'engine-run.js');
  console.log(`instrumentation overhead, bench/programs/compute.c (-O2), no migration, median of ${runs} (interleaved)`);
  console.log('engine   plain ms   kafu ms   ratio');
  for (const engine of engines) {
    const r = await run(scriptOn(engine, helper), [plain, kafu, String(runs)]);
    if (r.code !== 0) throw new Error(`${engine}: ${r.stderr}`);
    const t = JSON.parse(r.stdout.trim().split('\n').pop()!) as { plain: number[]; kafu: number[] };
    console.log(`${engine.padEnd(6)} ${f1(median(t.plain)).padStart(10)} ${f1(median(t.kafu)).padStart(9)}   x${(median(t.kafu) / median(t.plain)).toFixed(3)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
