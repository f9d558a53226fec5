// Running a clang installed on this machine (wasi-sdk, or a distribution's clang with a wasm32-wasi sysroot).
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { UserError } from '../core/errors.js';
import { type ParsedArgs } from './args.js';
import { packageIncludeDir } from './toolchain.js';

export interface NativeRun {
  clang: string;
  sysroot?: string;
  target: string;
  lang: 'c' | 'c++';
  args: string[];
  parsed: ParsedArgs;
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin?: Uint8Array;
  stdout: (chunk: Uint8Array | string) => void;
  stderr: (text: string) => void;
  log: (line: string) => void;
  verbose: boolean;
}

/** The full argument list kafu gives a native clang. */
export function nativeArgs(run: Pick<NativeRun, 'clang' | 'sysroot' | 'target' | 'lang' | 'args' | 'parsed'>): string[] {
  const extra: string[] = [];
  if (!run.parsed.hasTarget) extra.push(`--target=${run.target}`);
  if (run.sysroot && !run.parsed.hasSysroot) extra.push(`--sysroot=${run.sysroot}`);
  if (run.lang === 'c++' && !/\+\+(-[\d.]+)?(\.exe)?$/.test(basename(run.clang))) extra.push('--driver-mode=g++');
  extra.push('-I', packageIncludeDir());
  return [...extra, ...run.args];
}

export async function runNative(run: NativeRun): Promise<number> {
  const args = nativeArgs(run);
  if (run.verbose) run.log(`kafu clang: ${run.clang} ${args.join(' ')}`);
  return await new Promise<number>((resolvePromise, reject) => {
    const child = spawn(run.clang, args, { cwd: run.cwd, env: run.env, stdio: [run.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => run.stdout(new Uint8Array(b)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => run.stderr(s));
    if (run.stdin && child.stdin) child.stdin.end(run.stdin);
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(new UserError(`cannot run ${run.clang}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`));
    });
    child.on('close', (code, signal) => resolvePromise(code ?? (signal ? 128 + 1 : 1)));
  });
}
