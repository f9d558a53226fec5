// A trapping program, under kafu singlenode and kafu run as real processes: exit code 134, a backtrace with C
// function names on stderr, output up to the trap kept.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildWasm, repoRoot } from '../support/build.js';

const work = mkdtempSync(join(tmpdir(), 'kafu-trap-'));
after(() => rmSync(work, { recursive: true, force: true }));
const kafu = (args: string[]) =>
  spawnSync(process.execPath, [join(repoRoot, 'bin', 'kafu.js'), ...args], { cwd: work, encoding: 'utf8', timeout: 120_000 });

test('a trap on the edge node ends the program with 134 and a named backtrace', async () => {
  const wasm = await buildWasm({ sources: ['test/programs/core/trap.c'] });
  writeFileSync(
    join(work, 'kafu-config.yaml'),
    `name: trap\napp:\n  path: ${wasm}\nnodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n  edge: { address: 127.0.0.1, port: 50052 }\n`,
  );
  const r = kafu(['singlenode', 'serve', 'kafu-config.yaml']);
  assert.equal(r.status, 134);
  assert.equal(r.stdout, 'on edge\n');
  assert.match(r.stderr, /ERROR Program trapped on edge: unreachable/);
  const frames = [...r.stderr.matchAll(/ERROR {5}at (\S+)/g)].map((m) => m[1]);
  assert.deepEqual(frames.slice(0, 3), ['crash', 'f', 'f'], r.stderr);

  const plain = kafu(['run', wasm]);
  assert.equal(plain.status, 134);
  assert.equal(plain.stdout, 'on edge\n');
  assert.match(plain.stderr, /the program trapped: unreachable\n {4}at crash /);
});

test('an abort message without a newline (libc++) does not run into the log line that follows it', async () => {
  const wasm = await buildWasm({ sources: ['test/programs/core/abort_message.cpp'], cxx: true });
  writeFileSync(join(work, 'abort.yaml'), `name: abort\napp:\n  path: ${wasm}\nnodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n`);
  const message = 'out_of_range was thrown in -fno-exceptions mode with message "vector"';
  const single = kafu(['singlenode', 'serve', 'abort.yaml']);
  assert.equal(single.status, 134);
  assert.match(single.stderr, new RegExp(`^${message}\\n\\S+ ERROR Program trapped on cloud`, 'm'), single.stderr);
  const plain = kafu(['run', wasm]);
  assert.equal(plain.status, 134);
  assert.match(plain.stderr, new RegExp(`^${message}\\nkafu run: the program trapped: unreachable`), plain.stderr);
});
