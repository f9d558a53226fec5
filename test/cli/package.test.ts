// Kafu outside this clone, as a user gets it: `npm pack` makes a tarball, a new project installs it (nothing else),
// and there `npx kafu` compiles and runs a program, the original Kafu's Makefile builds with KAFU_SDK_PATH = the
// installed package, and a CMake + Ninja project builds with CC="kafu clang".
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../support/build.js';

const work = await mkdtemp(join(tmpdir(), 'kafu-package-'));
after(() => rm(work, { recursive: true, force: true }));
const project = join(work, 'project');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const has = (tool: string) => spawnSync(tool, ['--version'], { encoding: 'utf8' }).status === 0;

function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, ...opts });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${String(r.stdout)}\n${String(r.stderr)}`);
  return String(r.stdout);
}
// The installed package's bin folder first on PATH: what `npx kafu` and `CC="kafu clang"` find.
const env = () => ({ ...process.env, PATH: `${join(project, 'node_modules', '.bin')}${delimiter}${process.env.PATH}` });

before(async () => {
  // --ignore-scripts: `npm test` has just built dist/ (prepare would rebuild it under the other running tests).
  sh(npm, ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: repoRoot });
  const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote no tarball');
  await cp(join(repoRoot, 'examples', 'basic'), project, { recursive: true, filter: (f) => !f.endsWith('.wasm') });
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'my-kafu-app', private: true }));
  // ONNXRUNTIME_NODE_INSTALL=skip as the README says (its installer would download CUDA parts).
  sh(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, tarball)], {
    cwd: project,
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
});

test('the packed package installs into a new project, where npx kafu compiles and runs the quick start', () => {
  sh('npx', ['--no-install', 'kafu', 'clang', 'main.c', '-o', 'main.wasm'], { cwd: project, env: env() });
  const out = sh('npx', ['--no-install', 'kafu', 'singlenode', 'serve', 'kafu-config.yaml'], { cwd: project, env: env() });
  assert.equal(out, 'Hello, from cloud!\nHello, from edge!\nBack on cloud.\n');
  // A browser node's bridge serves the page's bundled scripts from the package.
  for (const f of ['tab-page.js', 'tab-worker.js']) assert.ok(existsSync(join(project, 'node_modules', 'kafu', 'dist', 'browser', f)), `the package lacks dist/browser/${f}`);
});

test('the original Kafu\'s Makefile builds with KAFU_SDK_PATH set to the installed package', async (t) => {
  if (!has('make')) return t.skip('make is not installed');
  const dir = join(project, 'original-basic');
  await cp(join(repoRoot, 'test', 'programs', 'compat', 'basic'), dir, { recursive: true });
  sh('make', [`KAFU_SDK_PATH=${join(project, 'node_modules', 'kafu')}`], { cwd: dir, env: env() });
  const out = sh('npx', ['--no-install', 'kafu', 'singlenode', 'serve', 'kafu-config.yaml'], { cwd: dir, env: env() });
  assert.equal(out, 'greetings from cloud1\ngreetings from edge1\n');
});

test('a CMake + Ninja project builds with CC="kafu clang" (examples/cmake)', async (t) => {
  if (!has('cmake') || !has('ninja')) return t.skip('cmake or ninja is not installed');
  const dir = join(project, 'cmake');
  await cp(join(repoRoot, 'examples', 'cmake'), dir, { recursive: true, filter: (f) => !f.includes('/build') });
  const cc = { cwd: dir, env: { ...env(), CC: 'kafu clang' } };
  sh('cmake', ['-G', 'Ninja', '-S', '.', '-B', 'build'], cc);
  sh('cmake', ['--build', 'build'], cc);
  const out = sh('npx', ['--no-install', 'kafu', 'singlenode', 'serve', 'kafu-config.yaml'], { cwd: dir, env: env() });
  assert.equal(out, 'cloud: asking the edge for samples\nedge: read 8 samples\ncloud: mean 20.44\n');
});
