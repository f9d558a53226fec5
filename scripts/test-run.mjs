// What every test run shares (scripts/run-tests.mjs, scripts/profile-tests.mjs): the compiled test files, a build
// cache of the run's own, and the run's build server.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * The test files that take longest (wall time, scripts/profile-tests.mjs on a loaded 2-core machine, longest
 * first). They start first: with three files at a time, a long file that starts last would set the run's end.
 * Only an order: a file missing here starts later, one listed that is gone is ignored. Re-measure now and then.
 */
const LONGEST = [
  'test/serve/serve',
  'test/engines/matrix',
  'test/serve/first-node-lost',
  'test/serve/faults',
  'test/wasi/families-per-node',
  'test/serve/checkpoint',
  'test/browser/tab-node',
  'test/core/funcptr-flow',
  'test/serve/handoff-transport',
  'test/wasi/families',
  'test/nn/checkpoint',
  'test/bench/quick',
].map((f) => join('dist', `${f}.test.js`));

/**
 * Every compiled test file (dist/**\/*.test.js) whose path contains one of `filters` (all without filters): the
 * longest first, then the others in name order.
 */
export function testFiles(filters) {
  const find = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.test.js') ? [join(dir, e.name)] : [],
    );
  const files = find('dist').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
  const rank = (f) => (LONGEST.includes(f) ? LONGEST.indexOf(f) : LONGEST.length);
  return files.sort((a, b) => rank(a) - rank(b)); // (a stable sort: the rest keep name order)
}

/**
 * The environment of a run's test processes, and `finish` (call it at the end: stops the build server and waits
 * for it, so that a `time` of the run counts its CPU, then removes the run's temporary folder; resolves to what
 * the server did: { compiled, cpuSeconds }, or undefined without one).
 */
export async function startTestRun() {
  const run = mkdtempSync(join(tmpdir(), 'kafu-test-run-'));
  // kafu clang's build cache: one of this run's own (builds shared between test files hit it), never the user's.
  const env = { ...process.env, KAFU_CACHE_DIR: process.env.KAFU_CACHE_DIR ?? join(run, 'cache') };
  // The test programs are compiled by build servers for the whole run (test/support/build-server.ts): the
  // toolchain and the instrumenter load once per server, not once per test file. Two (KAFU_TEST_BUILDERS), each
  // building its share of the programs (by cache key), so that compiling uses both cores while test files wait.
  // Without them each file compiles for itself.
  const script = 'dist/test/support/build-server.js';
  const servers = [];
  if (existsSync(script) && !env.KAFU_TEST_BUILD_SOCKET) {
    const count = Math.max(1, Number(process.env.KAFU_TEST_BUILDERS ?? '2') || 1);
    const started = await Promise.all(Array.from({ length: count }, (_, i) => startBuildServer(script, join(run, `build-${i}.sock`), env)));
    if (started.every((s) => s !== undefined)) {
      servers.push(...started);
      env.KAFU_TEST_BUILD_SOCKET = started.map((s) => s.socket).join(delimiter);
    } else {
      for (const s of started) s?.stop();
      console.error('run-tests: a build server did not start; each test file compiles its own programs');
    }
  }
  return {
    env,
    async finish() {
      const said = await Promise.all(servers.map((s) => s.stop()));
      rmSync(run, { recursive: true, force: true });
      if (said.length === 0 || said.includes(undefined)) return undefined;
      return { compiled: said.reduce((n, s) => n + s.compiled, 0), cpuSeconds: said.reduce((n, s) => n + s.cpuSeconds, 0) };
    },
  };
}

/** A build server listening on `socket`, or undefined if it did not start; stop() resolves to its stats. */
async function startBuildServer(script, socket, env) {
  const p = spawn(process.execPath, [script, socket], { stdio: ['pipe', 'pipe', 'inherit'], env });
  let said = '';
  const closed = new Promise((resolve) => p.on('close', resolve));
  const ready = await Promise.race([
    new Promise((resolve) => {
      p.stdout.on('data', (b) => {
        said += b;
        if (said.includes('ready\n')) resolve(true);
      });
    }),
    closed.then(() => false),
  ]);
  const stop = async () => {
    p.stdin.end(); // it ends when its stdin closes, saying what it did
    await closed;
    const line = /^stats (.*)$/m.exec(said)?.[1];
    return line ? JSON.parse(line) : undefined;
  };
  return ready ? { socket, stop } : (await stop(), undefined);
}
