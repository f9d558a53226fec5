// One C program per WASI preview1 function family (test/programs/wasi/<family>.c). Each prints one line per check
// with exact results and errno names; the plain run must print exactly <family>.expected, and a run that migrates
// to another node after every WASI call (and after every N-th) must be indistinguishable from it: same stdout,
// stderr, exit code and files.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '../support/build.js';
import { observable, runForced, type ForcedOptions, type ForcedResult } from '../support/forced.js';

const DIR = 'test/programs/wasi';
const expected = (name: string) => readFileSync(join(repoRoot, DIR, `${name}.expected`), 'utf8');

/** Run with every = 1 and every = n; the plain run prints `stdout`; both migrating runs match it whole. */
async function assertFamily(
  source: string,
  o: Omit<ForcedOptions, 'every'> & { n: number; stdout: string; exitCode?: number; minMigrations: number },
): Promise<ForcedResult> {
  let first: ForcedResult | undefined;
  for (const every of [1, o.n]) {
    const r = await runForced([`${DIR}/${source}`], { ...o, every });
    assert.equal(r.plain.stdout, o.stdout, `plain run of ${source}`);
    assert.equal(r.plain.exitCode, o.exitCode ?? 0, `plain exit code of ${source}`);
    assert.deepEqual(observable(r.migrating), observable(r.plain), `${source} migrating after every ${every} WASI call(s)`);
    const atLeast = Math.floor(o.minMigrations / every);
    assert.ok(r.migrating.migrations >= atLeast, `${source}, every ${every}: ${r.migrating.migrations} migrations, expected ≥ ${atLeast}`);
    const on = r.migrating.migrations % 2 === 0 ? 'a' : 'b';
    const end = r.migrating.exitCode === 134 ? `Program trapped on ${on}: ` : `Program finished on ${on} (exit code ${r.plain.exitCode})`;
    assert.ok(r.migrating.logs.some((l) => l.startsWith(end)), `no log line "${end}…" in ${r.migrating.logs.slice(-3).join(' | ')}`);
    first ??= r;
  }
  return first!;
}

const T = { timeout: 180_000 };

describe('WASI preview1 families, plain and migrating after every WASI call', { concurrency: 1 }, () => {
  test('args_* and environ_*', T, async () => {
    await assertFamily('args_env.c', {
      args: ['one', 'two words', '-x', '', '--flag=v'],
      env: { GREETING: 'hi', EMPTY: '', WITH_EQ: 'a=b=c', UNICODE: 'héllo ✓' },
      stdout: expected('args_env'),
      exitCode: 6,
      n: 7,
      minMigrations: 30,
    });
  });

  test('clock_time_get and clock_res_get; monotonic never goes backwards across migrations', T, async () => {
    await assertFamily('clocks.c', { stdout: expected('clocks'), n: 9, minMigrations: 220 });
  });

  test('random_get', T, async () => {
    await assertFamily('random.c', { stdout: expected('random'), n: 4, minMigrations: 20 });
  });

  test('fd_* on regular files', T, async () => {
    const r = await assertFamily('fd_file.c', { stdout: expected('fd_file'), n: 5, minMigrations: 200 });
    assert.deepEqual(r.plain.files, { 'f.txt': 'HEL\0\0', 'g.txt': '0123456789' });
  });

  test('path_*', T, async () => {
    const r = await assertFamily('paths.c', { stdout: expected('paths'), n: 6, minMigrations: 300 });
    assert.deepEqual(r.plain.files, {
      'd/': '',
      'd/a.txt': 'changed through hard link',
      'd/dangling': '-> no-such-target',
      'd/followhard': 'changed through hard link',
      'd/hard': 'changed through hard link',
      'd/linkhard': '-> a.txt',
      'd/no-such-target': '',
    });
  });

  test('fd_readdir with cookies, and readdir/telldir/seekdir on top', T, async () => {
    const r = await assertFamily('readdir.c', { stdout: expected('readdir'), n: 5, minMigrations: 200 });
    assert.equal(Object.keys(r.plain.files).filter((k) => k.startsWith('d/file_')).length, 40);
  });

  test('poll_oneoff: clock and fd subscriptions; nanosleep, usleep, poll()', T, async () => {
    await assertFamily('poll.c', { stdout: expected('poll'), n: 3, minMigrations: 40 });
  });

  test('sched_yield and proc_exit: every way of ending gives the host the exit code', T, async () => {
    await assertFamily('sched_exit.c', { args: ['exit', '4'], stdout: expected('sched_exit'), exitCode: 4, n: 2, minMigrations: 10 });
    const head = 'sched_yield: 0\nsched_yield: 0\nsched_yield: 0\nraw sched_yield: OK\nbuffered, not flushed: ';
    const cases: Array<[string[], string, number]> = [
      [['return', '3'], 'ending by return with 3\natexit handler ran\n', 3],
      [['return', '0'], 'ending by return with 0\natexit handler ran\n', 0],
      [['_Exit', '5'], 'ending by _Exit with 5\n', 5],
      [['proc_exit', '125'], 'ending by proc_exit with 125\n', 125],
      [['trap', '0'], 'ending by trap with 0\n', 134],
    ];
    for (const [args, tail, code] of cases) {
      await assertFamily('sched_exit.c', { args, stdout: head + tail, exitCode: code, n: 3, minMigrations: 10 });
    }
  });
});
