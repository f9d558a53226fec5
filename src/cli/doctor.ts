// `kafu doctor`: is this installation able to build and run kafu programs? Each check says what it found; each
// problem comes with the command that fixes it. Exit code 1 when there is a problem.
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../core/errors.js';
import {
  INSTALL_BUNDLED_HINT,
  bundledVersion,
  compile,
  installedPackageVersion,
  isWasmBinary,
  loadInstrument,
  resolveToolchain,
  type ResolvedToolchain,
} from '../clang/index.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** The command (or step) that fixes a failed check. */
  fix?: string;
}

const TEST_PROGRAM = `#include <stdio.h>
#include "kafu.h"
void f(void);
int main(void) { printf("cloud\\n"); f(); return 0; }
KAFU_DEST(f, "edge")
KAFU_EXPORT(f)
void f(void) { printf("edge\\n"); }
`;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function checkNode(version = process.versions.node): Check {
  const major = Number(version.split('.')[0]);
  return major >= 20
    ? { name: 'Node.js', ok: true, detail: `${version} (kafu needs 20 or newer)` }
    : { name: 'Node.js', ok: false, detail: `${version} is too old: kafu needs 20 or newer`, fix: 'install Node.js 20 or newer (https://nodejs.org, or `nvm install 20`)' };
}

function describeToolchain(tc: ResolvedToolchain): string {
  if (tc.kind === 'bundled') return `bundled @yowasp/clang ${bundledVersion() ?? '(not installed)'}`;
  const v = spawnSync(tc.clang, ['--version'], { encoding: 'utf8' });
  const first = (v.stdout ?? '').split('\n')[0] || 'version unknown';
  return `native ${tc.clang} (${first}; from ${tc.why}; sysroot ${tc.sysroot ?? "clang's default"})`;
}

/** Compile the test program (not instrumented); returns the check and the module for the next check. */
async function checkToolchain(env: NodeJS.ProcessEnv, dir: string): Promise<{ check: Check; wasm?: Uint8Array }> {
  const name = 'C/C++ toolchain (kafu clang)';
  let tc: ResolvedToolchain;
  try {
    tc = resolveToolchain(undefined, 'c', env);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { check: { name, ok: false, detail: e.message, fix: 'unset WASI_SDK_PATH (to use the bundled toolchain) or set it to a wasi-sdk folder' } };
  }
  if (tc.kind === 'bundled' && bundledVersion() === undefined) {
    return { check: { name, ok: false, detail: 'the bundled toolchain @yowasp/clang is not installed', fix: INSTALL_BUNDLED_HINT } };
  }
  const what = describeToolchain(tc);
  await writeFile(join(dir, 'hello.c'), TEST_PROGRAM);
  const diagnostics: string[] = [];
  const t0 = Date.now();
  let code: number;
  try {
    code = await compile(['hello.c', '-o', 'hello.wasm'], {
      lang: 'c',
      cwd: dir,
      instrument: false,
      env: { ...env, KAFU_CACHE: 'off' }, // the check is that the toolchain runs, not that a result was kept
      log: (line) => process.stderr.write(line + '\n'),
      stderr: (t) => diagnostics.push(t),
      stdout: () => {},
    });
  } catch (e) {
    const fix = tc.kind === 'bundled' ? INSTALL_BUNDLED_HINT : 'check the native toolchain, or unset WASI_SDK_PATH to use the bundled one';
    return { check: { name, ok: false, detail: `${what}: ${(e as Error).message}`, fix } };
  }
  const ms = Date.now() - t0;
  let wasm: Uint8Array | undefined;
  if (code === 0) wasm = new Uint8Array(await readFile(join(dir, 'hello.wasm')).catch(() => Buffer.alloc(0)));
  if (code !== 0 || !wasm || !isWasmBinary(wasm)) {
    const fix =
      tc.kind === 'bundled'
        ? 'npm install @yowasp/clang   (reinstall the bundled toolchain)'
        : 'give the native clang a wasm32-wasi sysroot (wasi-sdk: set WASI_SDK_PATH; Debian: apt install wasi-libc lld libclang-rt-dev-wasm32), or unset WASI_SDK_PATH';
    return { check: { name, ok: false, detail: `${what}: compiling a test program failed (exit ${code}):\n${diagnostics.join('').trimEnd()}`, fix } };
  }
  return { check: { name, ok: true, detail: `${what}; compiled a test program in ${seconds(ms)}` }, wasm };
}

async function checkInstrumenter(wasm: Uint8Array | undefined): Promise<Check> {
  const name = 'instrumentation engine (binaryen)';
  const version = installedPackageVersion('binaryen');
  const fix = 'npm install binaryen   (an optional dependency of kafu, needed by `kafu clang` only)';
  if (version === undefined) return { name, ok: false, detail: 'binaryen is not installed', fix };
  try {
    const spec = 'binaryen'; // not a literal: kafu builds without the optional package
    await import(spec);
  } catch (e) {
    return { name, ok: false, detail: `binaryen ${version} is installed but does not load: ${(e as Error).message}`, fix };
  }
  if (!wasm) return { name, ok: true, detail: `binaryen ${version} loads (not tried on a program: no toolchain)` };
  try {
    const t0 = Date.now();
    const instrument = await loadInstrument();
    const { report } = await instrument(wasm, { optimizeLevel: 1 });
    return {
      name,
      ok: true,
      detail: `binaryen ${version}; instrumented the test program in ${seconds(Date.now() - t0)} (${report.points.length} migration point)`,
    };
  } catch (e) {
    return { name, ok: false, detail: `binaryen ${version}: instrumenting the test program failed: ${(e as Error).message}`, fix: 'reinstall kafu and binaryen: npm install kafu binaryen' };
  }
}

/** WASI-NN's backend: optional (a node without ML runs programs; their WASI-NN calls say what is missing). */
async function checkNn(): Promise<Check> {
  const name = 'WASI-NN backend (onnxruntime-node)';
  const version = installedPackageVersion('onnxruntime-node');
  if (version === undefined) {
    return { name, ok: true, detail: 'not installed (optional): WASI-NN calls give unsupported_operation; ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node to run models (skip: its installer would download CUDA parts; the CPU runtime is in the package)' };
  }
  try {
    const spec = 'onnxruntime-node'; // not a literal: kafu builds without the optional package
    await import(spec);
    const bin = dirname(fileURLToPath(import.meta.resolve(spec)));
    const cuda = readdirSync(join(bin, '..', 'bin'), { recursive: true }).some((f) => String(f).includes('providers_cuda'));
    return { name, ok: true, detail: `onnxruntime-node ${version} loads; targets: cpu${cuda ? ', gpu (CUDA provider present)' : ' (no CUDA provider: gpu graphs fail unless app.nn.gpu_fallback: cpu)'}` };
  } catch (e) {
    return { name, ok: false, detail: `onnxruntime-node ${version} is installed but does not load: ${(e as Error).message.split('\n')[0]}`, fix: 'ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node' };
  }
}

/** Run every check, printing each as it completes. Returns the checks. */
export async function doctor(print: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const checks: Check[] = [];
  const show = (c: Check): void => {
    checks.push(c);
    const [first, ...rest] = c.detail.split('\n');
    print(`${c.ok ? 'ok     ' : 'PROBLEM'} ${c.name}: ${first}`);
    for (const l of rest) print(`          ${l}`);
    if (!c.ok && c.fix) print(`        fix: ${c.fix}`);
  };
  show(checkNode());
  const dir = await mkdtemp(join(tmpdir(), 'kafu-doctor-'));
  try {
    const { check, wasm } = await checkToolchain(env, dir);
    show(check);
    show(await checkInstrumenter(wasm));
    show(await checkNn());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const problems = checks.filter((c) => !c.ok).length;
  print(problems === 0 ? 'No problems found.' : `${problems} problem${problems > 1 ? 's' : ''} found.`);
  return checks;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check this installation: Node.js, the C/C++ toolchain of `kafu clang`, the instrumentation engine, WASI-NN')
    .action(async () => {
      const checks = await doctor((line) => process.stdout.write(line + '\n'));
      if (checks.some((c) => !c.ok)) process.exitCode = 1;
    });
}
