// npm run bench:compile — the first minute: what `kafu clang` of a small program costs as a fresh process (as make
// runs it), without the build cache, on a cache miss (which also fills it), and on a hit; `kafu --version` is the
// floor (starting Node and the CLI). Median of N runs each, interleaved; compare within one run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const runs = Number(process.env['BENCH_RUNS'] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'kafu-bench-compile-'));
const kafu = resolve('bin/kafu.js');
const programs = {
  'C hello world': { file: 'hello.c', text: '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n', cmd: 'clang' },
  'examples/basic (KAFU_DEST)': { file: resolve('examples/basic/main.c'), text: undefined, cmd: 'clang' },
  'C++ iostream': { file: 'io.cpp', text: '#include <iostream>\nint main() { std::cout << "hi" << std::endl; }\n', cmd: 'clang++' },
  // With migration points, the two kinds wasm-ld's --emit-relocs failed on (both now linked twice, see README).
  'C fopen + qsort (KAFU_DEST)': { file: resolve('test/programs/core/files_qsort.c'), text: undefined, cmd: 'clang' },
  'C++ virtual (KAFU_DEST)': { file: resolve('test/programs/core/funcptr_flow.cc'), text: undefined, cmd: 'clang++' },
} as const;

function timed(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [kafu, ...args], { cwd: dir, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kafu ${args.join(' ')} failed: ${r.stderr}`);
  return performance.now() - t0;
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

try {
  const floor: number[] = [];
  console.log(`kafu clang as a fresh process, median of ${runs} (ms):`);
  console.log('program                        no cache   miss (fills)       hit   hit/no cache');
  for (const [name, p] of Object.entries(programs)) {
    if (p.text) writeFileSync(join(dir, p.file), p.text);
    const off: number[] = [];
    const miss: number[] = [];
    const hit: number[] = [];
    for (let i = 0; i < runs; i++) {
      const cache = join(dir, `cache-${name.replace(/\W+/g, '_')}-${i}`);
      const args = [p.cmd, p.file, '-o', 'out.wasm'];
      floor.push(timed(['--version'], process.env));
      off.push(timed(args, { ...process.env, KAFU_CACHE: 'off' }));
      miss.push(timed(args, { ...process.env, KAFU_CACHE_DIR: cache }));
      hit.push(timed(args, { ...process.env, KAFU_CACHE_DIR: cache }));
    }
    const f = (v: number[]) => median(v).toFixed(0).padStart(10);
    console.log(`${name.padEnd(29)}${f(off)}${f(miss)}${f(hit)}   x${(median(hit) / median(off)).toFixed(3)}`);
  }
  console.log(`kafu --version (Node + CLI start): ${median(floor).toFixed(0)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
