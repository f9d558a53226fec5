// The original Kafu's projects as they are: Makefiles calling $(KAFU_SDK_PATH)/libexec/kafu_clang (C, and C++ with
// -lstdc++), <spectest.h> and its printing imports (wasmtime's format), node names and an empty `args:` in the
// config — built with `make` against this package's root and run by `kafu singlenode serve`. And kafu.h compiled
// natively (gcc), where it expands to nothing: the same program runs in one place.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot } from '../support/build.js';
import { spawnKafu } from '../support/cluster.js';

const work = await mkdtemp(join(tmpdir(), 'kafu-compat-'));
after(() => rm(work, { recursive: true, force: true }));
const has = (tool: string) => spawnSync(tool, ['--version'], { encoding: 'utf8' }).status === 0;

/** Copy test/programs/compat/NAME, `make` it with KAFU_SDK_PATH = this package, run it on singlenode. */
async function makeAndRun(name: string): Promise<{ stdout: string; dir: string }> {
  const dir = join(work, name);
  await cp(join(repoRoot, 'test', 'programs', 'compat', name), dir, { recursive: true });
  const make = spawnSync('make', [`KAFU_SDK_PATH=${repoRoot}`], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  assert.equal(make.status, 0, make.stdout + make.stderr);
  const run = await spawnKafu(['singlenode', 'serve', 'kafu-config.yaml'], dir).done;
  assert.equal(run.exitCode, 0, run.stderr);
  return { stdout: run.stdout, dir };
}

test('the original basic example\'s shape: its Makefile, <spectest.h>, cloud1/edge1, an empty args:', async (t) => {
  if (!has('make')) return t.skip('make is not installed');
  const { stdout, dir } = await makeAndRun('basic');
  assert.equal(stdout, 'greetings from cloud1\ngreetings from edge1\n');
  // The same source natively: kafu.h and spectest.h expand to plain C.
  if (!has('gcc')) return t.diagnostic('gcc is not installed: native build not tried');
  const cc = spawnSync('gcc', ['-Wall', '-Werror', '-I', join(repoRoot, 'include'), 'main.c', '-o', 'native'], { cwd: dir, encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  assert.equal(spawnSync(join(dir, 'native'), { encoding: 'utf8' }).stdout, stdout);
});

test('the original basic-cpp example\'s shape: kafu_clang with -lstdc++, spectest prints as wasmtime does', async (t) => {
  if (!has('make')) return t.skip('make is not installed');
  const { stdout } = await makeAndRun('basic-cpp');
  assert.equal(
    stdout,
    ['41: i32', '43: i32', '-5000000000: i64', '1.5: f32', '2.25: f64', '7: i32', '0.5: f32', '-3: f64', '1000000000000000000000: f64', 'done', ''].join('\n'),
  );
});
