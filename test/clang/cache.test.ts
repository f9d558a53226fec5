// kafu clang's build cache: the same inputs give the same output without loading the toolchain or the instrumenter,
// a changed header (even one only found by scanning) is a miss, warnings are said again on a hit, failures are never
// kept, and KAFU_CACHE=off leaves no trace.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { compile } from '../../src/clang/index.js';

const work = await mkdtemp(join(tmpdir(), 'kafu-cache-test-'));
after(() => rm(work, { recursive: true, force: true }));
const cacheDir = join(work, 'cache');

async function kafuClang(args: string[], env: NodeJS.ProcessEnv = { ...process.env, KAFU_CACHE_DIR: cacheDir }) {
  const stderr: string[] = [];
  const log: string[] = [];
  const code = await compile([...args, '--kafu-verbose'], {
    lang: 'c',
    cwd: work,
    instrument: true,
    toolchain: { kind: 'bundled' },
    env,
    log: (l) => log.push(l),
    stderr: (t) => stderr.push(t),
    stdout: () => {},
  });
  return { code, stderr: stderr.join(''), log: log.join('\n') };
}

test('a second identical build comes from the cache, byte for byte; a changed header is rebuilt', async () => {
  await writeFile(join(work, 'value.h'), '#define VALUE 1\n');
  await writeFile(
    join(work, 'prog.c'),
    '#include <stdio.h>\n#include "kafu.h"\n#include "value.h"\nvoid f(void);\nKAFU_DEST(f, "edge")\nKAFU_EXPORT(f)\n' +
      'void f(void) { int unused; printf("%d\\n", VALUE); }\nint main(void) { f(); return 0; }\n',
  );
  const first = await kafuClang(['prog.c', '-Wall', '-o', 'a.wasm']);
  assert.equal(first.code, 0, first.stderr);
  assert.doesNotMatch(first.log, /from the cache/);
  assert.match(first.stderr, /warning: unused variable 'unused'/);

  const a = await readFile(join(work, 'a.wasm'));
  const second = await kafuClang(['prog.c', '-Wall', '-o', 'a.wasm']);
  assert.equal(second.code, 0);
  assert.match(second.log, /the same inputs were built before: result taken from the cache/);
  assert.match(second.log, /instrumented .*a\.wasm: taken from the cache/);
  assert.match(second.stderr, /warning: unused variable 'unused'/, 'warnings are said again');
  assert.deepEqual(await readFile(join(work, 'a.wasm')), a);
  // Without the toolchain's entries, clang runs again; its linked module is the same, so instrumenting is a hit.
  await rm(join(cacheDir, 'clang'), { recursive: true });
  const third = await kafuClang(['prog.c', '-Wall', '-o', 'a.wasm']);
  assert.doesNotMatch(third.log, /the same inputs were built before/);
  assert.match(third.log, /instrumented .*a\.wasm: taken from the cache/);
  assert.deepEqual(await readFile(join(work, 'a.wasm')), a);

  await writeFile(join(work, 'value.h'), '#define VALUE 2\n');
  const changed = await kafuClang(['prog.c', '-Wall', '-o', 'a.wasm']);
  assert.equal(changed.code, 0);
  assert.doesNotMatch(changed.log, /from the cache/);
  assert.notDeepEqual(await readFile(join(work, 'a.wasm')), a);
});

test('a failed build is not kept; KAFU_CACHE=off writes no cache', async () => {
  await writeFile(join(work, 'bad.c'), 'int main(void) { return x; }\n');
  for (let i = 0; i < 2; i++) {
    const r = await kafuClang(['bad.c', '-o', 'bad.wasm']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /bad\.c:1:25: error: use of undeclared identifier 'x'/);
  }
  const off = join(work, 'off-cache');
  const r = await kafuClang(['prog.c', '-o', 'c.wasm'], { ...process.env, KAFU_CACHE: 'off', KAFU_CACHE_DIR: off });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(existsSync(off), false);
  assert.ok((await readdir(join(cacheDir, 'clang'))).length >= 2);
});
