// The benchmarks' short versions (`-- --quick`), as CI runs them: each runs to the end and prints its table with
// a row per case and numbers in it. No timing is asserted (this machine's load decides those).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/build.js';

function runBench(name: string): string {
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'bench', `${name}.js`), '--quick'], { cwd: repoRoot, encoding: 'utf8', timeout: 170_000 });
  assert.equal(r.status, 0, `bench ${name} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const T = { timeout: 180_000 };

test('bench:serve --quick: p50/p90/max, bytes and the breakdown for each case between two kafu serve processes', T, () => {
  const out = runBench('serve');
  for (const name of ['small program, warm hop', '4 MiB heap, 10 % dirtied', '4 MiB heap, first hop']) {
    // A row per hand-off transport: the direct one and gRPC's Migrate.
    for (const transport of ['direct', 'grpc']) {
      const row = out.split('\n').find((l) => l.startsWith(name) && l.slice(name.length).trim().startsWith(`${transport} `));
      assert.ok(row, `no ${transport} row for ${name}:\n${out}`);
      // hops, p50, p90, max, sent (n unit), encode, copy, decode, restore, wire, baseline, ratio, target; a first
      // hop's row then the CPU both processes used during it (Linux's /proc)
      const cpu = name.includes('first') ? '\\s+[\\d.]+' : '';
      assert.match(row.slice(name.length).trim().slice(transport.length), new RegExp(`^\\s+\\d+(\\s+-?[\\d.]+){3}\\s+[\\d.]+ (KB|MB)(\\s+-?[\\d.]+){6}\\s+x[\\d.]+\\s+[\\d.]+${cpu}$`), row);
    }
  }
  // A first hop of a 4 MiB heap carries about the heap; a warm hop with a tenth of 1 MiB changed, a few KB.
  assert.match(out, /^4 MiB heap, first hop .* 4\.\d MB /m);
});

test('bench:migrate --quick: first and later hops, full and delta, in one process', T, () => {
  const out = runBench('migrate');
  const rows = out.split('\n').filter((l) => /^\s+\d+\s+(full|delta\+compression)\s/.test(l));
  assert.equal(rows.length, 4, out);
});

test('bench:instrument --quick: the kernels plain and instrumented, with ratios, geomean and code size', T, () => {
  const out = runBench('instrument');
  // Per kernel: instructions plain and instrumented and their ratio ("-" where valgrind does not count them, as in
  // --quick), then wall-time medians and their ratio.
  const num = '[\\d.]+';
  const counted = `(?:${num}|-)`;
  for (const k of ['qsort', 'interp', 'recursion', 'hash', 'float']) {
    assert.match(out, new RegExp(`^${k}\\s+${counted}\\s+${counted}\\s+(?:x${num}|-)\\s+${num}\\s+${num}\\s+x${num}$`, 'm'), out);
  }
  assert.match(out, /^wall time: geomean x[\d.]+, worst x[\d.]+ .* code \d+ -> \d+ bytes, x[\d.]+/m);
});

test('bench:hop --quick: a small hop between two program workers, and a first hop whole and streamed', T, () => {
  const out = runBench('hop');
  assert.match(out, /^small warm hop \(1 MiB heap\)\s+\d+(\s+[\d.]+){3}$/m, out);
  for (const mode of ['whole', 'streamed']) assert.match(out, new RegExp(`^4 MiB heap\\s+4\\.\\d MB ${mode}\\s+1(\\s+[\\d.]+){3}$`, 'm'), out);
  // The sender's work before a first hop's first byte: whole body, first part, all parts.
  assert.match(out, /^4 MiB heap(\s+[\d.]+){3}$/m, out);
});

