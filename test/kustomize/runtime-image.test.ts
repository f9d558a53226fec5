// The container image's steps, as far as they go without Docker: the Dockerfile's entrypoint and user are the ones
// the manifests rely on; the runtime-only install it performs (scripts/install-runtime.sh on `npm pack` output,
// here from npm's cache, and the registry for what it lacks) has no compiler and no dev tools, and that install — as the image's `kafu` — runs
// the example's manifests to completion through the local pod harness.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ENTRYPOINT, IMAGE_UID } from '../../src/kustomize/pod-layout.js';
import { buildWasm, repoRoot } from '../support/build.js';
import { freePorts } from '../support/cluster.js';
import { freshDir } from '../support/forced.js';
import { assertPodsSucceeded, runManifests } from '../support/pods.js';

let work = '';
before(async () => {
  work = await freshDir('kafu-image-');
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('the Dockerfile gives the manifests their entrypoint and non-root user, and installs with the tested script', async () => {
  const dockerfile = await readFile(join(repoRoot, 'Dockerfile'), 'utf8');
  const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  assert.match(final, new RegExp(`^ENTRYPOINT \\["${ENTRYPOINT}"\\]$`, 'm'));
  assert.match(final, new RegExp(`^USER ${IMAGE_UID}:${IMAGE_UID}$`, 'm'));
  assert.match(final, /^RUN sh \/tmp\/pkg\/install-runtime\.sh /m);
  assert.match(final, /ln -s \/opt\/kafu\/bin\/kafu\.js \/usr\/local\/bin\/kafu/);
});

test('the image\'s runtime-only install runs the example\'s manifests', async () => {
  // npm's cache first (filled by `npm install`), the registry for what it lacks (a packument npm ci wants).
  const env = { ...process.env, npm_config_prefer_offline: 'true' };
  const npm = (args: string[], cwd: string) => spawnSync('npm', args, { cwd, encoding: 'utf8', env });
  const pack = npm(['pack', '--ignore-scripts', '--pack-destination', work], repoRoot);
  assert.equal(pack.status, 0, pack.stderr);
  const tgz = join(work, pack.stdout.trim().split('\n').pop()!);
  const opt = join(work, 'opt', 'kafu');
  const install = spawnSync('sh', [join(repoRoot, 'scripts', 'install-runtime.sh'), tgz, join(repoRoot, 'package-lock.json'), opt], {
    encoding: 'utf8',
    env,
  });
  assert.equal(install.status, 0, install.stderr);
  const modules = await readdir(join(opt, 'node_modules'));
  for (const absent of ['binaryen', 'typescript', 'kubernetes-models', '@yowasp']) assert.ok(!modules.includes(absent), `${absent} installed`);
  assert.ok(modules.includes('@grpc'));
  const kafu = [process.execPath, join(opt, 'bin', 'kafu.js')];

  // No compiler in the image: `kafu clang` says what to install.
  const clang = spawnSync(kafu[0]!, [...kafu.slice(1), 'clang', 'x.c'], { encoding: 'utf8' });
  assert.equal(clang.status, 1);
  assert.match(clang.stderr, /@yowasp\/clang\) is not installed/);

  // The installed kafu writes the manifests for the example and runs as every pod's `kafu`.
  const dir = join(work, 'app');
  await mkdir(dir);
  await copyFile(await buildWasm({ sources: ['examples/basic/main.c'] }), join(dir, 'main.wasm'));
  const example = await readFile(join(repoRoot, 'examples', 'basic', 'kafu-config.yaml'), 'utf8');
  const [cloud, edge] = await freePorts(2);
  await writeFile(join(dir, 'kafu-config.yaml'), example.replace('port: 50051', `port: ${cloud}`).replace('port: 50052', `port: ${edge}`));
  // The runtime-only install makes the certificates too (kafu certs), and appends cluster.tls as it says.
  const certs = spawnSync(kafu[0]!, [...kafu.slice(1), 'certs', 'kafu-config.yaml'], { cwd: dir, encoding: 'utf8' });
  assert.equal(certs.status, 0, certs.stderr);
  await writeFile(join(dir, 'kafu-config.yaml'), (await readFile(join(dir, 'kafu-config.yaml'), 'utf8')) + certs.stdout);
  const build = spawnSync(kafu[0]!, [...kafu.slice(1), 'kustomize', 'build', 'kafu-config.yaml'], { cwd: dir, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  const secret: Record<string, string> = {};
  for (const f of ['ca.crt', 'cloud.crt', 'cloud.key', 'edge.crt', 'edge.key']) secret[f] = await readFile(join(dir, 'certs', f), 'utf8');
  const pods = await runManifests(build.stdout, { dir: join(work, 'pods'), launch: { command: kafu }, timeoutMs: 30_000, secrets: { 'kafu-tls': secret } });
  assertPodsSucceeded(pods);
  assert.equal(pods.cloud!.stdout, 'Hello, from cloud!\nHello, from edge!\nBack on cloud.\n');
});
