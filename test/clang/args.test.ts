// Unit tests of how `kafu clang` reads a command line, maps paths for the bundled toolchain and picks a toolchain.
// No compiler runs here.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { expandResponseFiles, linkOutput, parseClangArgs, splitKafuFlags } from '../../src/clang/args.js';
import { HOST_PREFIX, PathRewriter, VirtualTree, fixDepFile } from '../../src/clang/bundled.js';
import { nativeArgs } from '../../src/clang/native.js';
import { packageIncludeDir, resolveToolchain } from '../../src/clang/toolchain.js';
import { UserError } from '../../src/core/errors.js';

test('kafu flags are removed before clang sees the arguments; unknown ones are refused', () => {
  const { flags, clangArgs } = splitKafuFlags(['-O2', '--kafu-no-instrument', 'a.c', '--kafu-toolchain=bundled', '-o', 'x']);
  assert.deepEqual(clangArgs, ['-O2', 'a.c', '-o', 'x']);
  assert.equal(flags.noInstrument, true);
  assert.equal(flags.toolchain, 'bundled');
  assert.equal(splitKafuFlags(['--help']).flags.help, true);
  assert.equal(splitKafuFlags(['-help']).flags.help, false); // clang's own option list
  assert.throws(() => splitKafuFlags(['--kafu-frobnicate']), UserError);
});

test('mode, default output names and -O level follow clang', () => {
  const link = parseClangArgs(['a.c', 'b.c', '-O3', '-O1']);
  assert.equal(link.mode, 'link');
  assert.equal(linkOutput(link), 'a.out');
  assert.equal(link.optLevel, 1);
  assert.equal(link.optForSize, false);
  assert.equal(parseClangArgs(['a.c', '-O2', '-Oz']).optForSize, true); // no normal-path copies (src/instrument/normal-path.ts)
  assert.equal(parseClangArgs(['a.c', '-Os', '-O2']).optForSize, false);
  assert.equal(parseClangArgs(['-c', 'a.c']).mode, 'compile');
  assert.equal(parseClangArgs(['-E', 'a.c']).mode, 'other');
  assert.equal(parseClangArgs(['--version']).mode, 'other');
  assert.equal(parseClangArgs(['-Os', 'a.o', '-oprog.wasm']).output, 'prog.wasm');
  assert.equal(parseClangArgs(['a.o', '--output=p.wasm', '-Oz']).optLevel, 2);
  assert.equal(parseClangArgs(['a.o', '-Wl,-r']).partialLink, true);
});

test('path arguments are found in every spelling, values of other options are not', () => {
  const p = parseClangArgs(['-I', 'inc', '-Iinc2', '-isystem', 'sys', '-include', 'pre.h', '-L', 'lib', '-lm', '-D', 'X=a.c',
    '-x', 'c', 'main.c', '-MF', 'dep.d', '-o', 'out.wasm', '-I=sysinc']);
  assert.deepEqual(
    p.paths.map((x) => `${x.role}:${x.prefix}${x.path}`),
    ['include-dir:inc', 'include-dir:-Iinc2', 'include-dir:sys', 'include-file:pre.h', 'lib-dir:lib', 'input:main.c', 'output:dep.d', 'output:out.wasm'],
  );
});

test('response files are expanded like clang does', async () => {
  const files: Record<string, string> = { 'r.rsp': '-O2 "a b.c" \'-DX="1"\' @more.rsp', 'more.rsp': 'c.c\\ d' };
  const out = await expandResponseFiles(['@r.rsp', 'z.c'], async (p) => {
    const t = files[p];
    if (t === undefined) throw new Error('ENOENT');
    return t;
  });
  assert.deepEqual(out, ['-O2', 'a b.c', '-DX="1"', 'c.c d', 'z.c']);
});

test('bundled toolchain: cwd is the virtual root, other paths live under a prefix and come back verbatim', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'kafu-clang-args-'));
  try {
    const vt = new VirtualTree(cwd);
    assert.equal(vt.toVirtual('src/a.c'), 'src/a.c');
    assert.equal(vt.toVirtual('/abs/x.c'), `${HOST_PREFIX}/abs/x.c`);
    assert.equal(vt.toVirtual('../up/x.c'), `${HOST_PREFIX}${join(cwd, '..', 'up', 'x.c')}`);
    assert.equal(vt.toVirtual('usr/x.c'), `${HOST_PREFIX}${join(cwd, 'usr', 'x.c')}`); // the toolchain's own /usr
    assert.equal(vt.toHost('/src/a.o'), join(cwd, 'src', 'a.o'));
    assert.equal(vt.toHost(`${HOST_PREFIX}/abs/a.o`), '/abs/a.o');

    const rw = new PathRewriter();
    rw.add(vt.toVirtual('../up/x.c'), '../up/x.c');
    assert.equal(rw.rewrite(`${HOST_PREFIX}${join(cwd, '..', 'up', 'x.c')}:3:1: error: e`), '../up/x.c:3:1: error: e');
    assert.equal(rw.rewrite(`In file included from ${HOST_PREFIX}/opt/inc/k.h:1:`), 'In file included from /opt/inc/k.h:1:');

    // Header scanning: headers by extension, recursively, skipping node_modules and .git.
    await mkdir(join(cwd, 'inc', 'deep'), { recursive: true });
    await mkdir(join(cwd, 'inc', 'node_modules'), { recursive: true });
    await writeFile(join(cwd, 'inc', 'a.h'), '#define A 1\n');
    await writeFile(join(cwd, 'inc', 'deep', 'b.hpp'), '#define B 1\n');
    await writeFile(join(cwd, 'inc', 'node_modules', 'c.h'), '');
    await writeFile(join(cwd, 'inc', 'big.bin'), '');
    await vt.loadDir(join(cwd, 'inc'), 'inc', /\.(h|hpp)$/, true);
    assert.deepEqual([...vt.loaded.keys()].sort(), ['/inc/a.h', '/inc/deep/b.hpp']);
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});

test('toolchain choice: explicit beats WASI_SDK_PATH beats bundled', async () => {
  assert.equal(resolveToolchain(undefined, 'c', {}).kind, 'bundled');
  assert.equal(resolveToolchain('bundled', 'c', { WASI_SDK_PATH: '/nope' }).kind, 'bundled');
  assert.throws(() => resolveToolchain(undefined, 'c', { WASI_SDK_PATH: '/nonexistent-sdk' }), /WASI_SDK_PATH/);
  const sdk = await mkdtemp(join(tmpdir(), 'kafu-fake-sdk-'));
  try {
    await mkdir(join(sdk, 'bin'));
    await writeFile(join(sdk, 'bin', 'clang++'), '');
    await mkdir(join(sdk, 'share', 'wasi-sysroot'), { recursive: true });
    const tc = resolveToolchain(undefined, 'c++', { WASI_SDK_PATH: sdk });
    assert.deepEqual(tc, { kind: 'native', clang: join(sdk, 'bin', 'clang++'), sysroot: join(sdk, 'share', 'wasi-sysroot'), target: 'wasm32-wasi', why: 'WASI_SDK_PATH' });
    // A plain `clang` driving C++ gets g++ driver mode; kafu.h's folder is always on the include path.
    const args = nativeArgs({ clang: '/usr/bin/clang-16', target: 'wasm32-wasi', sysroot: '/s', lang: 'c++', args: ['a.cc'], parsed: parseClangArgs(['a.cc']) });
    assert.deepEqual(args, ['--target=wasm32-wasi', '--sysroot=/s', '--driver-mode=g++', '-I', packageIncludeDir(), 'a.cc']);
  } finally {
    await rm(sdk, { recursive: true, force: true });
  }
});

test('dependency files from the bundled toolchain name host files only', () => {
  const rw = new PathRewriter();
  const text = `x.o: x.c /usr/include/wasm32-wasip1/stdio.h \\\n  /usr/include/bits/a.h \\\n  ${HOST_PREFIX}/opt/kafu/include/kafu.h inc/c.h\n/usr/include/bits/a.h:\n${HOST_PREFIX}/opt/kafu/include/kafu.h:\n`;
  assert.equal(fixDepFile(text, rw), 'x.o: x.c  \\\n  /opt/kafu/include/kafu.h inc/c.h\n/opt/kafu/include/kafu.h:\n');
});
