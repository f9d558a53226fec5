// Standard input reaches the program under kafu singlenode and kafu run, and reading continues across a
// migration (including what the stdio buffer already held).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildWasm, repoRoot } from '../support/build.js';

const work = mkdtempSync(join(tmpdir(), 'kafu-stdin-'));
after(() => rmSync(work, { recursive: true, force: true }));
const kafu = (args: string[], input: string) =>
  spawnSync(process.execPath, [join(repoRoot, 'bin', 'kafu.js'), ...args], { cwd: work, input, encoding: 'utf8', timeout: 120_000 });

test('piped stdin is read on cloud and, after the migration, on edge', async () => {
  const wasm = await buildWasm({ sources: ['test/programs/core/stdin.c'] });
  writeFileSync(
    join(work, 'kafu-config.yaml'),
    `name: stdin\napp:\n  path: ${wasm}\nnodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n  edge: { address: 127.0.0.1, port: 50052 }\n`,
  );
  const input = 'first\nsecond\nthird\n';
  const want = 'cloud read: first\nedge read: second\nedge read: third\nlines on edge: 2\n';
  const r = kafu(['singlenode', 'serve', 'kafu-config.yaml'], input);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, want);
  assert.match(r.stderr, /Migration cloud -> edge \(Entering rest\)/);
  const plain = kafu(['run', wasm], input);
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(plain.stdout, want);
  const empty = kafu(['run', wasm], '');
  assert.equal(empty.status, 1);
  assert.equal(empty.stdout, 'no input\n');
});
