// npm run bench:instrument — what instrumentation costs: compile time, code size, execution time.
// Compiles each program with the bundled toolchain twice (--kafu-no-instrument, and instrumented), then runs
// bench/programs/compute.c both ways with no migration. Prints a table; compare ratios within one run.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../src/clang/index.js';
import { inspectModule } from '../src/inspect/inspect.js';
import { runWasiModule } from '../src/run/run.js';
import { codeSize } from '../src/core/wasm-sections.js';

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

async function runMs(file: string): Promise<number> {
  const bytes = readFileSync(file);
  const t0 = performance.now();
  await runWasiModule(bytes, file, { args: ['bench'], env: [], preopens: [], stdout: () => {}, stderr: () => {} });
  return performance.now() - t0;
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
try {
  // Load the toolchain once so the first row's compile time is comparable with the others.
  await build(programs[0]!, false);
  console.log('program               compile plain  compile kafu   code plain    code kafu   ratio  points');
  const outputs = new Map<string, { plain: string; kafu: string }>();
  for (const p of programs) {
    const plain = await build(p, false);
    const kafu = await build(p, true);
    const r = inspectModule(readFileSync(kafu.file));
    const plainCode = r.codeSizeBefore ?? codeSize(readFileSync(plain.file));
    console.log(
      `${p.name.padEnd(20)} ${pad(plain.ms.toFixed(0) + ' ms', 14)} ${pad(kafu.ms.toFixed(0) + ' ms', 13)} ` +
        `${pad(plainCode, 12)} ${pad(r.codeSize, 12)} ${pad('x' + (r.codeSize / plainCode).toFixed(2), 7)} ${pad(r.points.length, 7)}`,
    );
    outputs.set(p.name, { plain: plain.file, kafu: kafu.file });
  }
  const compute = outputs.get('compute (-O2)')!;
  const runs = 5;
  const plainTimes: number[] = [];
  const kafuTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    plainTimes.push(await runMs(compute.plain));
    kafuTimes.push(await runMs(compute.kafu));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log('');
  console.log(`execution, compute (-O2), no migration, median of ${runs} (interleaved):`);
  console.log(`  plain ${median(plainTimes).toFixed(1)} ms   kafu ${median(kafuTimes).toFixed(1)} ms   ratio x${(median(kafuTimes) / median(plainTimes)).toFixed(3)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
