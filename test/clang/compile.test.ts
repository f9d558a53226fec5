// `kafu clang` with the bundled toolchain, end to end. Each compile costs 1-5 s here, so the cases are few and
// each checks several things.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { compile, customSectionNames, importNames } from '../../src/clang/index.js';
import { repoRoot } from '../support/build.js';
import { runPlainWasi } from './wasi.js';

const PROGRAMS = join(repoRoot, 'test', 'clang', 'programs');
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'kafu-clang-test-'));
  await cp(PROGRAMS, work, { recursive: true });
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function kafuClang(args: string[], opts: { cwd?: string; lang?: 'c' | 'c++' } = {}) {
  const stderr: string[] = [];
  const stdout: string[] = [];
  const log: string[] = [];
  const code = await compile(args, {
    lang: opts.lang ?? 'c',
    cwd: opts.cwd ?? work,
    instrument: true,
    toolchain: { kind: 'bundled' },
    log: (l) => log.push(l),
    stderr: (t) => stderr.push(t),
    stdout: (c) => stdout.push(typeof c === 'string' ? c : new TextDecoder().decode(c)),
  });
  return { code, stderr: stderr.join(''), stdout: stdout.join(''), log };
}

test('a compile error exits non-zero, prints file:line verbatim, and writes no output', async () => {
  const r = await kafuClang(['bad.c', '-o', 'bad.wasm']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^bad\.c:4:12: error: expected ';'/m);
  const left = await readdir(work);
  assert.ok(!left.includes('bad.wasm'), 'no output file');
  assert.deepEqual(left.filter((f) => f.includes('.kafu-')), [], 'no temporary file left behind');
  assert.equal(r.stdout, '');
});

test('-c of several files with -I/-D/-O2 gives clang\'s default .o names; linking them gives a.out', async () => {
  const c = await kafuClang(['-c', 'multi/main.c', 'multi/sub/util.c', '-Imulti/inc', '-DGREETING="hi from C"', '-O2']);
  assert.equal(c.code, 0, c.stderr);
  const names = await readdir(work);
  assert.ok(names.includes('main.o') && names.includes('util.o'), names.join(' '));
  assert.ok(!names.includes('a.out'), '-c does not link');

  // Plain link (no instrumentation): runs under any WASI host, and carries no kafu metadata.
  const plain = await kafuClang(['main.o', 'util.o', '-lm', '--kafu-no-instrument']);
  assert.equal(plain.code, 0, plain.stderr);
  const aout = new Uint8Array(await readFile(join(work, 'a.out')));
  assert.ok(!customSectionNames(aout).includes('kafu.meta'));
  assert.ok(!importNames(aout).some((i) => i.startsWith('kafu.')));
  assert.equal(await runPlainWasi(join(work, 'a.out')), 'hi from C 4.0\nedge 4\n');

  // Default: instrumented, with the KAFU_DEST record turned into metadata and a migration-point import.
  const inst = await kafuClang(['main.o', 'util.o', '-lm', '-o', 'inst.wasm']);
  assert.equal(inst.code, 0, inst.stderr);
  const wasm = new Uint8Array(await readFile(join(work, 'inst.wasm')));
  const sections = customSectionNames(wasm);
  assert.ok(sections.includes('kafu.meta'), sections.join(' '));
  assert.ok(!sections.includes('kafu.dest'));
  const meta = JSON.parse(new TextDecoder().decode(customSection(wasm, 'kafu.meta')!)) as { points: { fn: string; node: string }[] };
  assert.deepEqual(meta.points.map((p) => [p.fn, p.node]), [['edge_part', 'edge']]);
});

test('C++: iostream, vector, string and map compile, link and run', async () => {
  const r = await kafuClang(['containers.cc', '-O1', '-o', 'cxx.wasm', '--kafu-no-instrument'], { lang: 'c++' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await runPlainWasi(join(work, 'cxx.wasm')), 'k1=10 k2=20 k3=30 size 3\n');
});

test('stdout stays clean while a fresh process loads the toolchain', async () => {
  const script = `
    const { compile } = await import(${JSON.stringify(new URL('../../src/clang/index.js', import.meta.url).href)});
    process.exitCode = await compile(['hello.c', '-o', 'fresh.wasm'], {
      lang: 'c', cwd: ${JSON.stringify(work)}, instrument: false, toolchain: { kind: 'bundled' },
      log: (l) => process.stderr.write(l + '\\n'),
    });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 0, err);
  assert.equal(out, '');
  assert.doesNotMatch(err, /yowasp|fetched/);
  for (const line of err.split('\n').filter(Boolean)) assert.match(line, /^kafu clang: loading the bundled toolchain \(\d+ MB\): \d+%$/);
  assert.equal(await runPlainWasi(join(work, 'fresh.wasm')), 'Hello, from cloud!\nHello, from edge!\n');
});

function customSection(wasm: Uint8Array, name: string): Uint8Array | undefined {
  // Tiny reader, independent of the code under test.
  let pos = 8;
  const leb = (): number => {
    let r = 0;
    let s = 0;
    for (;;) {
      const b = wasm[pos++]!;
      r += (b & 0x7f) * 2 ** s;
      if (!(b & 0x80)) return r;
      s += 7;
    }
  };
  while (pos < wasm.length) {
    const id = wasm[pos++]!;
    const size = leb();
    const end = pos + size;
    if (id === 0) {
      const n = leb();
      const sname = new TextDecoder().decode(wasm.subarray(pos, pos + n));
      if (sname === name) return wasm.subarray(pos + n, end);
    }
    pos = end;
  }
  return undefined;
}

test('KAFU_EXPORT mistakes say the fix: a static function, a C++ member function', async () => {
  const message = async (args: string[], lang: 'c' | 'c++') => {
    try {
      const r = await kafuClang(args, { lang });
      assert.notEqual(r.code, 0, 'compiled');
      return r.stderr;
    } catch (e) {
      return (e as Error).message;
    }
  };
  const st = await message(['static_export.c', '-o', 'static_export.wasm'], 'c');
  assert.match(st, /KAFU_DEST\(f, "edge"\): "f" is defined but not exported/);
  assert.match(st, /must not be static .*remove `static`/);
  const member = await message(['member_dest.cpp', '-o', 'member_dest.wasm'], 'c++');
  assert.match(member, /KAFU_DEST\(Planner::plan, "edge"\): a C\+\+ member or namespaced function cannot be a migration point/);
  assert.match(member, /wrap the call in a free function/);
  assert.doesNotMatch(member, /add KAFU_EXPORT\(Planner::plan\)/);
});

test('tail calls (-mtail-call) with migration points: a clear error naming the functions, not binaryen\'s abort', async () => {
  let text: string;
  try {
    const r = await kafuClang(['-O2', '-mtail-call', 'tail_calls.c', '-o', 'tail_calls.wasm']);
    assert.notEqual(r.code, 0, 'compiled');
    text = r.stderr;
  } catch (e) {
    text = (e as Error).message;
  }
  assert.match(text, /the program makes tail calls \(return_call, from -mtail-call\) in (step|count)(, (step|count))?: .*build without -mtail-call/);
  // Without the flag it builds (and, uninstrumented, runs).
  const ok = await kafuClang(['-O2', 'tail_calls.c', '-o', 'tail_calls.wasm']);
  assert.equal(ok.code, 0, ok.stderr);
  const plain = await kafuClang(['-O2', '-mtail-call', 'tail_calls.c', '-o', 'tail_plain.wasm', '--kafu-no-instrument']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(await runPlainWasi(join(work, 'tail_plain.wasm')), '12502500 2\n');
});

test('C++ exceptions, setjmp/longjmp and threads: the compiler\'s error (or a linked module) and why kafu lacks them', async () => {
  const exc = await kafuClang(['-fexceptions', 'exceptions.cpp', '-o', 'exceptions.wasm'], { lang: 'c++' });
  assert.notEqual(exc.code, 0);
  assert.match(exc.stderr, /undefined symbol: __cxa_throw[\s\S]*\nkafu: C\+\+ exceptions are not supported: .*Build without -fexceptions/);
  // Without an exception flag (kafu's -fno-exceptions): clang's own error, and the same reason with the way out.
  const noflag = await kafuClang(['exceptions.cpp', '-o', 'exceptions.wasm'], { lang: 'c++' });
  assert.notEqual(noflag.code, 0);
  assert.match(noflag.stderr, /cannot use '(throw|try)' with exceptions disabled[\s\S]*\nkafu: C\+\+ exceptions are not supported, so kafu builds C\+\+ with -fno-exceptions: .*Replace throw\/try\/catch/);
  const sj = await kafuClang(['setjmp.c', '-o', 'setjmp.wasm']);
  assert.notEqual(sj.code, 0);
  assert.match(sj.stderr, /\nkafu: setjmp\/longjmp are not supported/);
  // Threads link (wasi-libc's pthread_create fails at run time): a warning, the module is written.
  const th = await kafuClang(['threads.c', '-o', 'threads.wasm']);
  assert.equal(th.code, 0, th.stderr);
  assert.match(th.stderr, /kafu clang: warning: the program starts threads .*pthread_create returns ENOTSUP/);
  assert.equal(await runPlainWasi(join(work, 'threads.wasm')), 'create=58\n');
  // …and a program without any of them compiles without a word from kafu.
  const ok = await kafuClang(['-O1', 'static_export.c', '-o', 'fine.wasm', '--kafu-no-instrument']);
  assert.equal(ok.code, 0);
  assert.doesNotMatch(ok.stderr, /kafu/);
});
