// `kafu run` as a real process (node bin/kafu.js run …) with test/programs/wasi/cli.c: exit status, --dir
// HOST[::GUEST], --env, --inherit-env, arguments and flags after the module, and one-line errors.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildForced, freshDir } from '../support/forced.js';
import { repoRoot } from '../support/build.js';

let wasm = '';
let root = '';

before(async () => {
  ({ plain: wasm } = await buildForced(['test/programs/wasi/cli.c']));
  root = await freshDir('kafu-cli-run-');
  await mkdir(join(root, 'data'));
  await writeFile(join(root, 'data', 'hello.txt'), 'hello from the host');
  await mkdir(join(root, 'other'));
  await writeFile(join(root, 'other', 'o.txt'), 'other folder');
});
after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** node bin/kafu.js run ARGS, with only `env` (plus PATH) in its environment unless told otherwise. */
function kafuRun(args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(repoRoot, 'bin', 'kafu.js'), 'run', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
}

/** A failure: non-zero status, one line on stderr starting "kafu: error:", no stack trace. */
function assertOneLineError(p: SpawnSyncReturns<string>, pattern: RegExp): void {
  assert.notEqual(p.status, 0);
  assert.equal(p.stdout, '');
  const lines = p.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${p.stderr}`);
  assert.match(lines[0]!, /^kafu: error: /);
  assert.match(lines[0]!, pattern);
}

describe('kafu run (process)', { concurrency: 1 }, () => {
  test('exit status is the program\'s; stdout and stderr are the program\'s', () => {
    const p = kafuRun([wasm, '--exit', '7']);
    assert.equal(p.status, 7);
    assert.equal(p.stdout, 'arg[1] [--exit]\narg[2] [7]\nPATH inherited: no\n');
    assert.equal(p.stderr, 'exiting with 7\n');
    const zero = kafuRun([wasm]);
    assert.equal(zero.status, 0);
    assert.equal(zero.stderr, '');
  });

  test('arguments after the module reach the program, flags like -x and --dir included', () => {
    const p = kafuRun([wasm, 'a', '-x', '--foo=1', '--dir', 'z', 'two words', '']);
    assert.equal(p.status, 0, p.stderr);
    assert.equal(
      p.stdout,
      'arg[1] [a]\narg[2] [-x]\narg[3] [--foo=1]\narg[4] [--dir]\narg[5] [z]\narg[6] [two words]\narg[7] []\nPATH inherited: no\n',
    );
  });

  test('--dir HOST::GUEST maps the folder to the guest path; --dir HOST keeps the host path', () => {
    const data = join(root, 'data');
    const other = join(root, 'other');
    const p = kafuRun([
      '--dir', `${data}::/mnt/data`, '--dir', other, wasm,
      '--cat', '/mnt/data/hello.txt', '--cat', `${other}/o.txt`, '--cat', `${data}/hello.txt`, '--write', '/mnt/data/new.txt',
    ]);
    assert.equal(p.status, 0, p.stderr);
    const out = p.stdout.split('\n').filter((l) => !l.startsWith('arg['));
    assert.deepEqual(out, [
      'PATH inherited: no',
      'preopen 3 [/mnt/data]',
      `preopen 4 [${other}]`,
      'cat /mnt/data/hello.txt: [hello from the host]',
      `cat ${other}/o.txt: [other folder]`,
      `cat ${data}/hello.txt: ENOENT`,
      'wrote /mnt/data/new.txt',
      '',
    ]);
  });

  test('the written file lands in the host folder', async () => {
    const p = kafuRun(['--dir', `${join(root, 'data')}::/`, wasm, '--write', '/w.txt']);
    assert.equal(p.status, 0, p.stderr);
    assert.equal(await readFile(join(root, 'data', 'w.txt'), 'utf8'), 'from the guest');
  });

  test('--env K=V sets variables; the environment is not inherited without --inherit-env', () => {
    const p = kafuRun(['--env', 'KAFU_T_A=1', '--env', 'KAFU_T_B=x=y', '--env', 'KAFU_T_EMPTY=', wasm], { KAFU_T_PARENT: 'p' });
    assert.equal(p.status, 0, p.stderr);
    assert.equal(p.stdout, 'env [KAFU_T_A=1]\nenv [KAFU_T_B=x=y]\nenv [KAFU_T_EMPTY=]\nPATH inherited: no\n');
  });

  test('--inherit-env passes this process\'s environment', () => {
    const p = kafuRun(['--inherit-env', '--env', 'KAFU_T_A=1', wasm], { KAFU_T_PARENT: 'p' });
    assert.equal(p.status, 0, p.stderr);
    assert.match(p.stdout, /^env \[KAFU_T_PARENT=p\]$/m);
    assert.match(p.stdout, /^env \[KAFU_T_A=1\]$/m);
    assert.match(p.stdout, /^PATH inherited: yes$/m);
  });

  test(
    '--env overrides a variable --inherit-env brought: the program sees one value',
    () => {
      const p = kafuRun(['--inherit-env', '--env', 'KAFU_T_X=override', wasm], { KAFU_T_X: 'parent' });
      assert.equal(p.status, 0, p.stderr);
      assert.deepEqual(p.stdout.split('\n').filter((l) => l.startsWith('env ')), ['env [KAFU_T_X=override]']);
    },
  );

  test('a module path that cannot be read: one line, non-zero status, no stack trace', () => {
    assertOneLineError(kafuRun([join(root, 'missing.wasm')]), /cannot read .*missing\.wasm: ENOENT/);
    assertOneLineError(kafuRun([join(root, 'data')]), /cannot read .*data: EISDIR/);
    assertOneLineError(kafuRun([join(root, 'data', 'hello.txt')]), /hello\.txt: not a WebAssembly module/);
  });

  test('--env without "=": one line, non-zero status', () => {
    assertOneLineError(kafuRun(['--env', 'NOEQUALS', wasm]), /--env NOEQUALS: expected KEY=VALUE/);
  });

  test(
    '--dir naming a folder that does not exist: one line at start, non-zero status (as wasmtime)',
    () => {
      assertOneLineError(kafuRun(['--dir', `${join(root, 'nope')}::/data`, wasm]), /nope/);
    },
  );
});
