// Compiling the C/C++ test programs with the project's own `kafu clang` (bundled toolchain), cached by content:
// <repo>/.cache/test-builds/<sha256>.wasm, keyed by the toolchain version, the arguments, every source, the headers of include/ and
// the compiled code of the compiler driver and the instrumenter (so changing either rebuilds). Safe when several
// test processes build the same program at once: each writes a temporary file and renames it into place.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
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

/** Compile `spec` (or reuse the cached module) and return the .wasm's path. Throws with the diagnostics on failure. */
export async function buildWasm(spec: BuildSpec): Promise<string> {
  const args = spec.args ?? [];
  const instrument = spec.instrument ?? true;
  const sources = await Promise.all(
    spec.sources.map(async (s) => ({ path: s, sha: sha256(await readFile(join(repoRoot, s))) })),
  );
  const key = sha256(
    JSON.stringify({
      format: 1,
      toolchain: `@yowasp/clang@${bundledVersion() ?? 'missing'}`,
      cxx: spec.cxx ?? false,
      instrument,
      args,
      sources,
      headers: readdirSync(join(repoRoot, 'include')).sort().map((h) => [h, sha256(readFileSync(join(repoRoot, 'include', h)))]),
      compiler: compilerCodeHash(),
    }),
  );
  const out = join(buildCacheDir, `${key}.wasm`);
  if (existsSync(out)) return out;
  let p = inFlight.get(key);
  if (!p) {
    p = build(spec, args, instrument, out).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

async function build(spec: BuildSpec, args: string[], instrument: boolean, out: string): Promise<string> {
  await mkdir(buildCacheDir, { recursive: true });
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
