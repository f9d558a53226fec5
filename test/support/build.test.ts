// buildWasm: compiled once, then served from the content-addressed cache, also to concurrent callers.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { customSectionNames } from '../../src/clang/index.js';
import { buildCacheDir, buildPath, buildWasm } from './build.js';

test('buildWasm caches by content and serves concurrent callers one module', async () => {
  const spec = { sources: ['test/clang/programs/hello.c'], args: ['-O1'] };
  const [a, b] = await Promise.all([buildWasm(spec), buildWasm(spec)]);
  assert.equal(a, b);
  assert.ok(a.startsWith(buildCacheDir));
  assert.match(basename(a), /^[0-9a-f]{64}\.wasm$/);
  const wasm = new Uint8Array(await readFile(a));
  assert.ok(customSectionNames(wasm).includes('kafu.meta'), 'instrumented by default');

  const t0 = Date.now();
  const again = await buildWasm(spec);
  assert.equal(again, a);
  assert.ok(Date.now() - t0 < 1000, 'a cache hit does not compile');
  assert.ok((await stat(a)).size > 0);

  const plain = await buildWasm({ ...spec, instrument: false });
  assert.notEqual(plain, a, 'the key covers instrumentation');
  assert.ok(!customSectionNames(new Uint8Array(await readFile(plain))).includes('kafu.meta'));

  await assert.rejects(buildWasm({ sources: ['test/clang/programs/bad.c'] }), /bad\.c:4:12: error/);
});

/** buildWasm(spec) in a process of its own, with `env`: the path it returned and how many modules it compiled. */
function buildInChild(spec: object, env: NodeJS.ProcessEnv): Promise<{ path?: string; error?: string; compiled: number }> {
  const script = `const { buildWasm, buildStats } = await import(${JSON.stringify(new URL('./build.js', import.meta.url).href)});
    let r;
    try { r = { path: await buildWasm(${JSON.stringify(spec)}) }; } catch (e) { r = { error: e.message }; }
    console.log(JSON.stringify({ ...r, compiled: buildStats.compiled }));`;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let text = '';
    p.stdout.on('data', (b: Buffer) => (text += b.toString()));
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(text) as { path: string; compiled: number }) : reject(new Error(`builder exited ${code}: ${text}`))));
  });
}

/** A program no run has built yet (its own -D), uninstrumented (the cheapest build). */
const freshSpec = () => ({ sources: ['test/clang/programs/hello.c'], args: ['-O0', `-DNONCE_${randomBytes(6).toString('hex')}`], instrument: false });

const withoutServer = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env['KAFU_TEST_BUILD_SOCKET'];
  return env;
};

test('test processes that need the same module at once compile it once; a dead builder\'s lock is ignored', { timeout: 300_000 }, async () => {
  const spec = freshSpec();
  const out = await buildPath(spec);
  // The lock a killed test run leaves: its pid names no live process.
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  await writeFile(`${out}.lock`, String(dead));
  const runs = await Promise.all([1, 2].map(() => buildInChild(spec, withoutServer())));
  assert.deepEqual(runs.map((r) => r.path), [out, out]);
  assert.equal(runs[0]!.compiled + runs[1]!.compiled, 1, 'one process compiled, the other waited for its module');
  assert.ok(!existsSync(`${out}.lock`), 'the builder removed its lock');
});

test('with a build server, test processes have it compile: once for all, diagnostics passed on', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kafu-build-server-'));
  const socket = join(dir, 'build.sock');
  const server = spawn(process.execPath, [fileURLToPath(new URL('./build-server.js', import.meta.url)), socket], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    let said = '';
    await new Promise<void>((resolve, reject) => {
      server.stdout.on('data', (b: Buffer) => ((said += b.toString()), said.includes('ready\n') && resolve()));
      server.on('close', (code) => reject(new Error(`the build server exited (${code}): ${said}`)));
    });
    const env = { ...withoutServer(), KAFU_TEST_BUILD_SOCKET: socket };
    const spec = freshSpec();
    const [a, b, bad] = await Promise.all([buildInChild(spec, env), buildInChild(spec, env), buildInChild({ sources: ['test/clang/programs/bad.c'] }, env)]);
    const out = await buildPath(spec);
    assert.deepEqual([a.path, b.path], [out, out]);
    assert.deepEqual([a.compiled, b.compiled, bad.compiled], [0, 0, 0], 'the test processes compiled nothing themselves');
    assert.match(bad.error ?? '', /bad\.c:4:12: error/);
    const closed = new Promise((resolve) => server.on('close', resolve));
    server.stdin.end();
    await closed;
    const stats = JSON.parse(/^stats (.*)$/m.exec(said)?.[1] ?? '{}') as { compiled?: number };
    assert.equal(stats.compiled, 2, `the server compiled hello.c once and bad.c once:\n${said}`);
  } finally {
    server.kill();
    await rm(dir, { recursive: true, force: true });
  }
});
