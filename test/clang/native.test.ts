// `kafu clang` with a native clang (wasi-sdk, or Debian's clang-16 + wasi-libc). Skipped where none is installed:
// set KAFU_TEST_NATIVE_CLANG=/path/to/clang, or WASI_SDK_PATH, to run it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compile, customSectionNames } from '../../src/clang/index.js';
import { repoRoot } from '../support/build.js';
import { runPlainWasi } from './wasi.js';

function findNativeClang(): string | undefined {
  const candidates = [
    process.env['KAFU_TEST_NATIVE_CLANG'],
    process.env['WASI_SDK_PATH'] && join(process.env['WASI_SDK_PATH'], 'bin', 'clang'),
    '/usr/bin/clang-16',
  ].filter((c): c is string => !!c && existsSync(c));
  // Usable only with a wasm32-wasi libc: try the preprocessor on <stdio.h>.
  return candidates.find(
    (c) => spawnSync(c, ['--target=wasm32-wasi', '-E', '-x', 'c', '-'], { input: '#include <stdio.h>\n' }).status === 0,
  );
}

const clang = findNativeClang();

test('native clang: diagnostics verbatim, no output on failure, -c + link, instrumentation', { skip: clang ? false : 'no native clang with a wasm32-wasi sysroot' }, async () => {
  const work = await mkdtemp(join(tmpdir(), 'kafu-clang-native-'));
  try {
    await cp(join(repoRoot, 'test', 'clang', 'programs'), work, { recursive: true });
    const stderr: string[] = [];
    const run = (args: string[]) =>
      compile(args, { lang: 'c', cwd: work, instrument: true, toolchain: { kind: 'native', clang: clang! }, log: () => {}, stderr: (t) => stderr.push(t), stdout: () => {} });

    assert.notEqual(await run(['bad.c', '-o', 'bad.wasm']), 0);
    assert.match(stderr.join(''), /^bad\.c:4:12: error/m);
    assert.deepEqual((await readdir(work)).filter((f) => f.includes('bad.wasm') || f.includes('.kafu-')), []);

    assert.equal(await run(['-c', 'multi/main.c', 'multi/sub/util.c', '-Imulti/inc', '-DGREETING="native"']), 0, stderr.join(''));
    assert.equal(await run(['main.o', 'util.o', '-lm', '--kafu-no-instrument']), 0, stderr.join(''));
    assert.equal(await runPlainWasi(join(work, 'a.out')), 'native 4.0\nedge 4\n');
    assert.equal(await run(['main.o', 'util.o', '-lm', '-o', 'inst.wasm']), 0, stderr.join(''));
    assert.ok(customSectionNames(new Uint8Array(await readFile(join(work, 'inst.wasm')))).includes('kafu.meta'));
    assert.deepEqual((await readdir(work)).filter((f) => f.includes('.kafu-')), [], 'no temporary file left behind');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
