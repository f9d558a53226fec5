// npm run bench:instrument — what instrumentation costs: compile time, code size, execution time.
// Compiles each program with the bundled toolchain twice (--kafu-no-instrument, and instrumented), then runs the
// kernels of bench/programs/kernels.c both ways with no migration. Prints tables; compare ratios within one run.
// The kernels' ratio is measured two ways: machine instructions executed (valgrind, when it is installed: the same
// count whatever else the machine does) and wall-time medians (which a busy machine makes swing).
// `-- --quick`: one run of each kernel (what CI runs: a check that it works, not a timing). `-- --kernels`: only the
// kernels (no compile table).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../src/clang/index.js';
import { inspectModule } from '../src/inspect/inspect.js';
import { runWasiModule } from '../src/run/run.js';
import { codeSize } from '../src/core/wasm-sections.js';
import { percentiles } from './stats.js';
import { buildWasm } from '../test/support/build.js';

const programs: { name: string; sources: string[]; cxx?: boolean; args?: string[] }[] = [
  { name: 'examples/basic', sources: ['examples/basic/main.c'] },
  { name: 'kafu basic (f→g)', sources: ['test/programs/core/kafu_basic.c'] },
  { name: 'nested chain', sources: ['test/programs/core/nested.c'] },
  { name: 'function pointers', sources: ['test/programs/core/funcptr.c'] },
  { name: 'heap 50 MB (-O2)', sources: ['test/programs/core/heap.c'], args: ['-O2'] },
  { name: 'C++ iostream/STL', sources: ['test/programs/core/cxx.cc'], cxx: true },
  { name: 'compute (-O2)', sources: ['bench/programs/compute.c'], args: ['-O2'] },
];

process.env['KAFU_CACHE'] ??= 'off'; // compile times here are real builds (bench:compile measures the cache)
const dir = mkdtempSync(join(tmpdir(), 'kafu-bench-'));
const quiet = { log: () => {}, stderr: (t: string) => void process.stderr.write(t) };

async function build(p: (typeof programs)[number], instrument: boolean): Promise<{ file: string; ms: number }> {
  const file = join(dir, `${p.name.replace(/\W+/g, '_')}${instrument ? '' : '.plain'}.wasm`);
  const t0 = performance.now();
  const code = await compile([...(p.args ?? []), ...p.sources, '-o', file], {
    lang: p.cxx ? 'c++' : 'c',
    cwd: process.cwd(),
    instrument,
    ...quiet,
  });
  if (code !== 0) throw new Error(`compile of ${p.name} failed`);
  return { file, ms: performance.now() - t0 };
}

async function runMs(file: string, args: string[] = []): Promise<number> {
  const bytes = readFileSync(file);
  const t0 = performance.now();
  await runWasiModule(bytes, file, { args: ['bench', ...args], env: [], preopens: [], stdout: () => {}, stderr: () => {} });
  return performance.now() - t0;
}

const has = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const KERNEL_RUN = fileURLToPath(new URL('./kernel-run.js', import.meta.url));

/**
 * Machine instructions node executes running `kernel`, less those of a run that only starts the program (startup and
 * compilation). V8 made deterministic: one thread, optimizing compiler only (what a hot kernel runs), fixed seeds;
 * address-space randomization off where setarch can do that. Needs valgrind.
 */
const startupCounts = new Map<string, number>();
function instructions(file: string, kernel: string): number {
  const count = (k: string) => {
    const cmd = ['valgrind', '--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath,
      '--predictable', '--no-liftoff', '--random-seed=1', '--hash-seed=1', KERNEL_RUN, file, k];
    const argv = has('setarch') ? ['setarch', '-R', ...cmd] : cmd;
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    const m = /I\s+refs:\s+([\d,]+)/.exec(r.stderr);
    if (r.status !== 0 || !m) throw new Error(`valgrind run of ${kernel} failed: ${r.stderr.slice(-500)}`);
    return Number(m[1]!.replace(/,/g, ''));
  };
  if (!startupCounts.has(file)) startupCounts.set(file, count('none'));
  return count(kernel) - startupCounts.get(file)!;
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
const quick = process.argv.includes('--quick');
const kernelsOnly = quick || process.argv.includes('--kernels');
try {
  // Load the toolchain once so the first row's compile time is comparable with the others.
  if (!kernelsOnly) await build(programs[0]!, false);
  if (!kernelsOnly) console.log('program               compile plain  compile kafu   code plain    code kafu   ratio  points');
  for (const p of kernelsOnly ? [] : programs) {
    const plain = await build(p, false);
    const kafu = await build(p, true);
    const r = inspectModule(readFileSync(kafu.file));
    const plainCode = r.codeSizeBefore ?? codeSize(readFileSync(plain.file));
    console.log(
      `${p.name.padEnd(20)} ${pad(plain.ms.toFixed(0) + ' ms', 14)} ${pad(kafu.ms.toFixed(0) + ' ms', 13)} ` +
        `${pad(plainCode, 12)} ${pad(r.codeSize, 12)} ${pad('x' + (r.codeSize / plainCode).toFixed(2), 7)} ${pad(r.points.length, 7)}`,
    );
  }
  // Execution overhead: the kernels of bench/programs/kernels.c (migration points on hot paths), plain and
  // instrumented builds alternating, each kernel its own run; medians. `--quick`: one run each (CI).
  const kernels = ['qsort', 'interp', 'recursion', 'hash', 'float'];
  const kernelsSpec = { sources: ['bench/programs/kernels.c'], args: ['-O2'] };
  const plainK = { file: await buildWasm({ ...kernelsSpec, instrument: false }) };
  const kafuK = { file: await buildWasm(kernelsSpec) };
  const [sizePlain, sizeKafu] = [codeSize(readFileSync(plainK.file)), inspectModule(readFileSync(kafuK.file)).codeSize];
  const runs = quick ? 1 : 7;
  const counting = !quick && has('valgrind');
  console.log('');
  console.log(`execution, bench/programs/kernels.c (-O2), no migration: ${counting ? 'instructions executed (valgrind) and ' : ''}` +
    `wall-time median of ${runs} (plain and kafu alternating)${counting || quick ? '' : '; install valgrind for instruction counts'}:`);
  console.log('kernel       plain Minstr   kafu Minstr   ratio   plain ms   kafu ms   ratio');
  const ratios: number[] = [];
  const timeRatios: number[] = [];
  for (const k of kernels) {
    const plainTimes: number[] = [];
    const kafuTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      plainTimes.push(await runMs(plainK.file, [k]));
      kafuTimes.push(await runMs(kafuK.file, [k]));
    }
    const [p, q] = [percentiles(plainTimes).p50, percentiles(kafuTimes).p50];
    timeRatios.push(q / p);
    const [pi, qi] = counting ? [instructions(plainK.file, k), instructions(kafuK.file, k)] : [NaN, NaN];
    if (counting) ratios.push(qi / pi);
    const mi = (n: number) => (Number.isNaN(n) ? '-' : (n / 1e6).toFixed(0));
    console.log(
      `${k.padEnd(12)} ${pad(mi(pi), 12)} ${pad(mi(qi), 13)} ${pad(counting ? 'x' + (qi / pi).toFixed(3) : '-', 7)} ` +
        `${pad(p.toFixed(1), 10)} ${pad(q.toFixed(1), 9)} ${pad('x' + (q / p).toFixed(3), 7)}`,
    );
  }
  const geomean = (xs: number[]) => Math.exp(xs.reduce((n, r) => n + Math.log(r), 0) / xs.length);
  const summary = (what: string, xs: number[]) => `${what}: geomean x${geomean(xs).toFixed(3)}, worst x${Math.max(...xs).toFixed(3)}`;
  if (counting) console.log(summary('instructions', ratios) + ' (targets x1.03, x1.10)');
  console.log(summary('wall time', timeRatios) + ` (targets x1.03, x1.10); code ${sizePlain} -> ${sizeKafu} bytes, x${(sizeKafu / sizePlain).toFixed(3)} (target x1.15)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
