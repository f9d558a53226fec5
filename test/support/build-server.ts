// A process that compiles the test programs for every test file of a run (scripts/run-tests.mjs starts two and
// names their sockets in KAFU_TEST_BUILD_SOCKET; buildWasm asks the one its module's key falls to). A process that
// compiles loads the bundled toolchain (~1 s of CPU) and, to instrument, binaryen (~4 s): paid once per server
// here instead of once per test file, and the same program asked for by files running side by side is compiled
// once.
//
//   node dist/test/support/build-server.js SOCKET   prints "ready" once it listens; ends when its stdin closes
//   (printing "stats {compiled, cpuSeconds}").
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { buildStats, buildWasmHere, readBody, type BuildSpec } from './build.js';

/** What a test file's buildWasm sends (its own code: still checked, a bad request is a clear failure). */
function parseSpec(body: string): BuildSpec {
  const v = JSON.parse(body) as Record<string, unknown>;
  const strings = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === 'string');
  if (!strings(v.sources) || (v.args !== undefined && !strings(v.args))) throw new Error(`build server: bad build spec ${body.slice(0, 200)}`);
  return {
    sources: v.sources as string[],
    ...(v.args !== undefined ? { args: v.args as string[] } : {}),
    ...(v.cxx !== undefined ? { cxx: v.cxx === true } : {}),
    ...(v.instrument !== undefined ? { instrument: v.instrument === true } : {}),
  };
}

/** Serve builds on the unix socket `path`; resolves once listening. */
export async function serveBuilds(path: string): Promise<{ close(): void }> {
  const server = createServer((req, res) => {
    void (async () => {
      let status = 200;
      let reply: unknown;
      try {
        reply = { path: await buildWasmHere(parseSpec(await readBody(req))) };
      } catch (e) {
        status = 500;
        reply = { error: (e as Error).message };
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    })();
  });
  server.requestTimeout = 0; // a build under load can take minutes
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return { close: () => server.close() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const socket = process.argv[2];
  if (!socket) {
    console.error('usage: build-server.js SOCKET');
    process.exit(2);
  }
  await serveBuilds(socket);
  process.stdout.write('ready\n');
  // Ends with the run that started it, however that ends, saying what it did.
  const end = () => {
    const cpu = process.cpuUsage();
    process.stdout.write(`stats ${JSON.stringify({ compiled: buildStats.compiled, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`, () => process.exit(0));
  };
  process.stdin.on('data', () => {});
  process.stdin.on('end', end);
  process.stdin.on('error', end);
}
