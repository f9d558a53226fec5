// Compiling the C/C++ test programs with the project's own `kafu clang` (bundled toolchain), cached by content:
// <repo>/.cache/test-builds/<sha256>.wasm, keyed by the toolchain version, the arguments, every source, the headers of include/ and
// the compiled code of the compiler driver and the instrumenter (so changing either rebuilds). Test files run side
// by side (run-tests.mjs) and often need the same program at the same moment: one process builds it while the
// others wait for its result (a lock file beside the entry), instead of each compiling it again.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledVersion, compile } from '../../src/clang/index.js';

export interface BuildSpec {
  /** Source files, relative to the repository root. */
  sources: string[];
  /** More clang arguments (-O2, -DX=1, -lm …); kafu flags allowed. */
  args?: string[];
  /** Compile as C++ (kafu clang++). */
  cxx?: boolean;
  /** Instrument the linked module (default true). */
  instrument?: boolean;
}

/** The repository root: the nearest folder above this file whose package.json is kafu's. */
export const repoRoot: string = (() => {
  for (let d = dirname(fileURLToPath(import.meta.url)); ; d = dirname(d)) {
    try {
      if ((JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { name?: string }).name === 'kafu') return d;
    } catch {
      /* keep looking */
    }
    if (dirname(d) === d) throw new Error('buildWasm: cannot find the kafu repository root');
  }
})();

export const buildCacheDir = join(repoRoot, '.cache', 'test-builds');

/** The `kafu` command of this checkout, for tests that run it as a real process. */
export const KAFU_BIN = join(repoRoot, 'bin', 'kafu.js');

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The compiled modules of `dir` (this build's .js, tests excluded) and every local module they import. */
function codeClosure(entryDirs: string[]): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (file: string): void => {
    if (seen.has(file) || !existsSync(file)) return;
    const text = readFileSync(file, 'utf8');
    seen.set(file, sha256(text));
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+\.js)['"]/g)) visit(resolve(dirname(file), m[1]!));
  };
  for (const d of entryDirs) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort()) if (f.endsWith('.js') && !f.includes('.test')) visit(join(d, f));
  }
  return seen;
}

let codeHash: string | undefined;
function compilerCodeHash(): string {
  if (codeHash === undefined) {
    const here = dirname(fileURLToPath(import.meta.url)); // <out>/test/support
    const src = resolve(here, '..', '..', 'src');
    const closure = codeClosure([join(src, 'clang'), join(src, 'instrument')]);
    codeHash = sha256([...closure].map(([f, h]) => `${f.slice(src.length)}:${h}`).sort().join('\n'));
  }
  return codeHash;
}

const inFlight = new Map<string, Promise<string>>();

/** How many modules this process compiled itself (not taken from the cache or another process's build). */
export const buildStats = { compiled: 0 };

/** How long a process waits for another's build of the same module before building it too (a stuck builder). */
const WAIT_FOR_OTHER_MS = 10 * 60_000;
const POLL_MS = 100;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Build `out` unless another process is building it: the first to create OUT.lock (holding its pid) builds; the
 * others poll until OUT appears, the lock goes (its build failed: they try in turn, and report their own error) or
 * its holder is dead (killed test run: the lock is stale).
 */
async function buildOnce(spec: BuildSpec, args: string[], instrument: boolean, out: string): Promise<string> {
  await mkdir(buildCacheDir, { recursive: true });
  const lock = `${out}.lock`;
  const deadline = Date.now() + WAIT_FOR_OTHER_MS;
  for (;;) {
    if (existsSync(out)) return out;
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(await readFile(lock, 'utf8').catch(() => ''));
      // An empty lock is one being written this instant; a dead holder's lock is stale.
      if (holder > 0 && !alive(holder)) await unlink(lock).catch(() => {});
      else if (Date.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
      else return build(spec, args, instrument, out);
      continue;
    }
    try {
      return existsSync(out) ? out : await build(spec, args, instrument, out);
    } finally {
      await unlink(lock).catch(() => {});
    }
  }
}

/** Where the build cache keeps `spec`'s module (built or not). */
export async function buildPath(spec: BuildSpec): Promise<string> {
  const sources = await Promise.all(
    spec.sources.map(async (s) => ({ path: s, sha: sha256(await readFile(join(repoRoot, s))) })),
  );
  const key = sha256(
    JSON.stringify({
      format: 1,
      toolchain: `@yowasp/clang@${bundledVersion() ?? 'missing'}`,
      cxx: spec.cxx ?? false,
      instrument: spec.instrument ?? true,
      args: spec.args ?? [],
      sources,
      headers: readdirSync(join(repoRoot, 'include')).sort().map((h) => [h, sha256(readFileSync(join(repoRoot, 'include', h)))]),
      compiler: compilerCodeHash(),
    }),
  );
  return join(buildCacheDir, `${key}.wasm`);
}

/**
 * Compile `spec` (or reuse the cached module) and return the .wasm's path. Throws with the diagnostics on failure.
 * Under scripts/run-tests.mjs the run's build servers (build-server.ts) compile; without one, this process does.
 */
export async function buildWasm(spec: BuildSpec): Promise<string> {
  const out = await buildPath(spec);
  if (existsSync(out)) return out;
  // Build servers (separated by the path delimiter) each build the modules whose key falls to them.
  const sockets = (process.env['KAFU_TEST_BUILD_SOCKET'] ?? '').split(delimiter).filter((x) => x !== '');
  const socket = sockets[parseInt(basename(out).slice(0, 8), 16) % Math.max(1, sockets.length)];
  return (socket ? await askBuildServer(socket, spec) : undefined) ?? buildWasmHere(spec);
}

/** buildWasm in this process (what the build server runs). */
export async function buildWasmHere(spec: BuildSpec): Promise<string> {
  const args = spec.args ?? [];
  const instrument = spec.instrument ?? true;
  const out = await buildPath(spec);
  if (existsSync(out)) return out;
  const key = out;
  let p = inFlight.get(key);
  if (!p) {
    p = buildOnce(spec, args, instrument, out).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

async function build(spec: BuildSpec, args: string[], instrument: boolean, out: string): Promise<string> {
  buildStats.compiled++;
  const tmp = `${out}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const diagnostics: string[] = [];
  try {
    const code = await compile([...spec.sources, ...args, '-o', tmp], {
      lang: spec.cxx ? 'c++' : 'c',
      cwd: repoRoot,
      instrument,
      toolchain: { kind: 'bundled' },
      log: (line) => {
        if (!line.includes('loading the bundled toolchain')) diagnostics.push(line + '\n');
      },
      stderr: (t) => diagnostics.push(t),
      stdout: () => {},
    });
    if (code !== 0) {
      throw new Error(`buildWasm: kafu clang ${[...spec.sources, ...args].join(' ')} failed (exit ${code}):\n${diagnostics.join('')}`);
    }
    await rename(tmp, out); // atomic: a concurrent builder of the same key renames identical bytes
    return out;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

export const readBody = (m: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = '';
    m.setEncoding('utf8');
    m.on('data', (c: string) => (text += c));
    m.on('end', () => resolve(text));
    m.on('error', reject);
  });

/** The build server's answer for `spec`: the module's path; undefined when no server answers (build here then). */
function askBuildServer(socket: string, spec: BuildSpec): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path: '/build', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      readBody(res).then((text) => {
        let v: { path?: unknown; error?: unknown } = {};
        try {
          v = JSON.parse(text) as typeof v;
        } catch {
          /* not the build server's answer */
        }
        if (typeof v.path === 'string') resolve(v.path);
        else if (typeof v.error === 'string') reject(new Error(v.error));
        else resolve(undefined);
      }, () => resolve(undefined));
    });
    req.on('error', () => resolve(undefined)); // gone (or never there): the caller builds itself
    req.end(JSON.stringify(spec));
  });
}
