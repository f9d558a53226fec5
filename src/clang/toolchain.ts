// Which C/C++ toolchain `kafu clang` drives, and where it finds kafu.h.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../core/errors.js';

export type ToolchainChoice =
  /** @yowasp/clang: clang + wasm-ld + wasi-libc compiled to wasm, run inside Node (an optional dependency). */
  | { kind: 'bundled' }
  /** A clang binary on this machine. `sysroot` is the wasm32-wasi sysroot (wasi-libc); `target` the triple. */
  | { kind: 'native'; clang: string; sysroot?: string; target?: string };

export type ResolvedToolchain =
  | { kind: 'bundled'; why: string }
  | { kind: 'native'; clang: string; sysroot?: string; target: string; why: string };

/** The package's include/ folder (kafu.h). This file is dist/src/clang/toolchain.js or src/clang/toolchain.ts. */
export function packageIncludeDir(): string {
  return fileURLToPath(new URL('../../../include/', import.meta.url)).replace(/\/$/, '');
}

/** Root of the kafu package (where package.json and node_modules are). */
export function packageRoot(): string {
  return dirname(packageIncludeDir());
}

function guessSysroot(clang: string): string | undefined {
  const candidates = [
    join(dirname(clang), '..', 'share', 'wasi-sysroot'), // wasi-sdk layout
    '/usr/share/wasi-sysroot', // Debian/Ubuntu package wasi-libc
    '/usr/lib/wasi-sysroot',
    '/opt/wasi-sdk/share/wasi-sysroot',
  ];
  return candidates.map((c) => resolve(c)).find((c) => existsSync(c));
}

/**
 * Pick the toolchain: an explicit choice (`--kafu-toolchain=` or the API option) wins; then $WASI_SDK_PATH;
 * otherwise the bundled npm toolchain.
 */
export function resolveToolchain(
  choice: ToolchainChoice | string | undefined,
  lang: 'c' | 'c++',
  env: NodeJS.ProcessEnv = process.env,
): ResolvedToolchain {
  if (typeof choice === 'string') {
    if (choice === 'bundled') return { kind: 'bundled', why: '--kafu-toolchain=bundled' };
    const clang = resolve(choice);
    if (!existsSync(clang)) throw new UserError(`--kafu-toolchain=${choice}: no such file`);
    const sysroot = guessSysroot(clang);
    return { kind: 'native', clang, target: 'wasm32-wasi', why: '--kafu-toolchain', ...(sysroot ? { sysroot } : {}) };
  }
  if (choice?.kind === 'bundled') return { kind: 'bundled', why: 'requested' };
  if (choice?.kind === 'native') {
    const sysroot = choice.sysroot ?? guessSysroot(choice.clang);
    return { kind: 'native', clang: choice.clang, target: choice.target ?? 'wasm32-wasi', why: 'requested', ...(sysroot ? { sysroot } : {}) };
  }
  const sdk = env['WASI_SDK_PATH'];
  if (sdk) {
    const clang = join(sdk, 'bin', lang === 'c++' ? 'clang++' : 'clang');
    if (!existsSync(clang)) {
      throw new UserError(`WASI_SDK_PATH=${sdk} but ${clang} does not exist; fix WASI_SDK_PATH or unset it to use the bundled toolchain`);
    }
    const sysroot = join(sdk, 'share', 'wasi-sysroot');
    return { kind: 'native', clang, target: 'wasm32-wasi', why: 'WASI_SDK_PATH', ...(existsSync(sysroot) ? { sysroot } : {}) };
  }
  return { kind: 'bundled', why: 'default' };
}

// The part of @yowasp/clang's API kafu uses (declared here: its own .d.ts omits runClang, and kafu must build
// without the optional package installed).
export type YowaspTree = { [name: string]: YowaspTree | string | Uint8Array };
export interface YowaspRunOptions {
  stdin?: ((byteLength: number) => Uint8Array | null) | null;
  stdout?: ((bytes: Uint8Array | null) => void) | null;
  stderr?: ((bytes: Uint8Array | null) => void) | null;
  decodeASCII?: boolean;
  fetchProgress?: (event: { source: object; totalLength: number; doneLength: number }) => void;
}
export interface YowaspClang {
  /** args[0] is "clang" or "clang++"; null only loads the toolchain. */
  runClang(args: string[] | null, files?: YowaspTree, options?: YowaspRunOptions): Promise<YowaspTree | undefined>;
  /** One LLVM tool (args[0]: "clang", "wasm-ld" …), as a line of `clang -###` names it. */
  runLLVM(args: string[] | null, files?: YowaspTree, options?: YowaspRunOptions): Promise<YowaspTree | undefined>;
  Exit: new (...a: never[]) => Error & { code: number; files: YowaspTree };
  version: string;
}

export const BUNDLED_PACKAGE = '@yowasp/clang';
export const INSTALL_BUNDLED_HINT =
  'npm install @yowasp/clang   (an optional dependency of kafu, left out by `npm install --omit=optional`); ' +
  'or point WASI_SDK_PATH at a wasi-sdk, or pass --kafu-toolchain=/path/to/clang';

/** Import the bundled toolchain lazily: the runtime is installable without it. */
export async function loadBundled(): Promise<YowaspClang> {
  try {
    const spec = BUNDLED_PACKAGE; // not a literal: tsc must not require the optional package's types
    return (await import(spec)) as YowaspClang;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new UserError(`the bundled C/C++ toolchain (npm package ${BUNDLED_PACKAGE}) is not installed. Fix: ${INSTALL_BUNDLED_HINT}`);
    }
    throw e;
  }
}

/** Version of an installed npm package as this module would import it, or undefined when it is not installed. */
export function installedPackageVersion(name: string): string | undefined {
  let dir: string | undefined;
  try {
    dir = dirname(fileURLToPath(import.meta.resolve(name)));
  } catch {
    return undefined;
  }
  for (let d = dir; ; d = dirname(d)) {
    try {
      const pkg = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version;
    } catch {
      /* keep walking up */
    }
    if (dirname(d) === d) return undefined;
  }
}

/** Version of the installed bundled toolchain package, or undefined when it is not installed. */
export function bundledVersion(): string | undefined {
  return installedPackageVersion(BUNDLED_PACKAGE);
}
