// kafu clang / clang++ find function addresses by linking twice (src/clang/twin-link.ts,
// src/instrument/function-addresses.ts), for C++ and for C programs that open files by path alike — the two kinds
// on which wasm-ld's --emit-relocs failed — so the points-to analysis narrows their indirect calls.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { compile } from '../../src/clang/index.js';
import { functionNames, parseSections } from '../../src/core/wasm-sections.js';
import { repoRoot } from '../support/build.js';

const PROGRAMS = join(repoRoot, 'test', 'programs', 'core');
let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'kafu-addrs-test-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/**
 * Build `source` at -O2 (normal paths: each instrumented function F gets a copy named "F [kafu resume]", but for the
 * KAFU_DEST functions themselves, which keep only Asyncify's code).
 */
async function build(source: string, lang: 'c' | 'c++') {
  const out = join(work, `${source}.wasm`);
  const log: string[] = [];
  let stderr = '';
  const code = await compile([join(PROGRAMS, source), '-O2', '-o', out, '--kafu-verbose'], {
    lang,
    cwd: work,
    instrument: true,
    toolchain: { kind: 'bundled' },
    log: (l) => log.push(l),
    stderr: (t) => (stderr += t),
  });
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '', 'no diagnostics (no failed first link shown or hidden)');
  const names = [...functionNames(parseSections(new Uint8Array(await readFile(out)))).values()];
  const instrumented = names.filter((n) => n.endsWith(' [kafu resume]')).map((n) => n.slice(0, -' [kafu resume]'.length));
  return { log: log.join('\n'), instrumented, names };
}

test('C opening files by path: one link pair, indirect calls narrowed — qsort is instrumented, the printf family not', async () => {
  const { log, instrumented, names } = await build('files_qsort.c', 'c');
  assert.match(log, /indirect calls by points-to analysis/);
  assert.doesNotMatch(log, /linking again/);
  assert.ok(instrumented.includes('wrapper_cmp'), `wrapper_cmp instrumented: ${instrumented.join(', ')}`);
  assert.ok(names.includes('by_value') && !instrumented.includes('by_value'), 'the KAFU_DEST function by_value has no second copy');
  assert.ok(names.includes('vfprintf'), 'vfprintf is in the module');
  // By type these were all instrumented: a FILE's `write` has wrapper_cmp's type.
  for (const f of ['vfprintf', 'printf_core', 'fprintf', '__fwritex', 'fflush']) assert.ok(!instrumented.includes(f), `${f} not instrumented: ${instrumented.join(', ')}`);
});

test('C++: virtual calls and std::function calls that reach a migration point stay instrumented', async () => {
  const { log, instrumented, names } = await build('funcptr_flow.cc', 'c++');
  assert.match(log, /indirect calls by points-to analysis/);
  const has = (prefix: string) => instrumented.some((n) => n.startsWith(prefix));
  // (run_ops, holding the virtual call, is inlined into main, itself into _start.)
  for (const f of ['_start', 'run_fn(', 'Remote::apply(']) assert.ok(has(f), `${f} instrumented: ${instrumented.join(', ')}`);
  // std::function's invokers: one for the function pointer, one for the lambda.
  assert.equal(instrumented.filter((n) => n.includes('__call_func')).length, 2, instrumented.join(', '));
  // Plus::apply has the virtual call's type but cannot reach scale: only a type-based resolution would take it.
  assert.ok(names.some((n) => n.startsWith('Plus::apply(')), 'Plus::apply is in the module');
  assert.ok(!has('Plus::apply('), `Plus::apply not instrumented: ${instrumented.join(', ')}`);
});
