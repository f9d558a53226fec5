// A mount whose folder is missing is created (a node's own `${node}` folder starts empty), but never silently: a
// typo in preopened_dir would otherwise give the program an empty folder without a word.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildWasm, repoRoot } from '../support/build.js';

const work = mkdtempSync(join(tmpdir(), 'kafu-mounts-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('singlenode warns about each mount folder it had to create, naming the config key', async () => {
  const wasm = await buildWasm({ sources: ['examples/basic/main.c'] });
  mkdirSync(join(work, 'data'));
  const config = (dir: string) =>
    `name: m\napp:\n  path: ${wasm}\n  preopened_dir: ${dir}\n  mounts:\n    - { guest: /state, host: "./state/\${node}" }\n` +
    'nodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n  edge: { address: 127.0.0.1, port: 50052 }\n';
  writeFileSync(join(work, 'kafu-config.yaml'), config('./dta'));
  const kafu = () => spawnSync(process.execPath, [join(repoRoot, 'bin', 'kafu.js'), 'singlenode', 'serve', 'kafu-config.yaml'], { cwd: work, encoding: 'utf8', timeout: 60_000 });
  const r = kafu();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /WARN node cloud: the folder \S+\/dta of mount \/ did not exist; created it empty \(check app\.preopened_dir for a typo\)/);
  assert.match(r.stderr, /WARN node edge: the folder \S+\/state\/edge of mount \/state did not exist; created it empty \(check the host of that mount in app\.mounts/);
  assert.ok(existsSync(join(work, 'dta')));
  // Once they exist, nothing is said.
  writeFileSync(join(work, 'kafu-config.yaml'), config('./data'));
  const again = kafu();
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /WARN/);
});
