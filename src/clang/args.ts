// Reading a clang command line just well enough to drive it: which kafu-specific flags were given, what the
// command produces (object files, a linked module, nothing), where its output goes, which arguments name host
// files or folders (the bundled toolchain needs them loaded into its virtual filesystem), and the -O level.
// Everything else is passed to clang untouched.
import { UserError } from '../core/errors.js';

export interface KafuFlags {
  /** `--kafu-no-instrument`: link without the migration instrumentation. */
  noInstrument: boolean;
  /** `--kafu-toolchain=bundled|/path/to/clang`. */
  toolchain?: string;
  /** `--kafu-verbose`: print the commands kafu runs and the instrumentation report. */
  verbose: boolean;
  /** `--kafu-help` (and a lone `--help`/`-h`): kafu's own help. */
  help: boolean;
  /** `--kafu-syscall-points`: every WASI call may also suspend (forced-migration testing). */
  syscallPoints: boolean;
}

export const KAFU_FLAGS_HELP: [string, string][] = [
  ['--kafu-no-instrument', 'link a plain wasm32-wasi module (no migration points; `kafu run` and wasmtime run it, the migrating runtime does not)'],
  ['--kafu-toolchain=bundled|PATH', 'compiler: the bundled npm toolchain (@yowasp/clang), or a native clang binary with a wasm32-wasi sysroot'],
  ['--kafu-syscall-points', 'testing: let the runtime also migrate after any WASI call (`kafu singlenode serve --force-migration-every N`); larger code'],
  ['--kafu-verbose', 'print the commands kafu runs and the instrumentation report (on stderr)'],
  ['--kafu-help', 'this help'],
];

/** Split kafu's own flags from the arguments meant for clang. */
export function splitKafuFlags(argv: readonly string[]): { flags: KafuFlags; clangArgs: string[] } {
  const flags: KafuFlags = { noInstrument: false, verbose: false, help: false, syscallPoints: false };
  const clangArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--kafu-')) {
      clangArgs.push(a);
      continue;
    }
    if (a === '--kafu-no-instrument') flags.noInstrument = true;
    else if (a === '--kafu-verbose') flags.verbose = true;
    else if (a === '--kafu-syscall-points') flags.syscallPoints = true;
    else if (a === '--kafu-help') flags.help = true;
    else if (a.startsWith('--kafu-toolchain=')) flags.toolchain = a.slice('--kafu-toolchain='.length);
    else if (a === '--kafu-toolchain') {
      const v = argv[++i];
      if (v === undefined) throw new UserError('--kafu-toolchain needs a value: bundled, or the path of a clang binary');
      flags.toolchain = v;
    } else {
      throw new UserError(`unknown kafu flag ${a} (kafu's flags: ${KAFU_FLAGS_HELP.map(([f]) => f.split('=')[0]).join(', ')})`);
    }
  }
  if (flags.toolchain === '') throw new UserError('--kafu-toolchain needs a value: bundled, or the path of a clang binary');
  if (clangArgs.length === 1 && (clangArgs[0] === '--help' || clangArgs[0] === '-h')) flags.help = true;
  return { flags, clangArgs };
}

/** What an argument that names a host file or folder is used for. */
export type PathRole =
  | 'input' // a source, object or archive on the command line
  | 'include-dir' // -I, -isystem, -iquote, -idirafter
  | 'include-file' // -include, -imacros
  | 'lib-dir' // -L
  | 'output'; // -o, -MF, -serialize-diagnostics

/** A clang argument that names a host path. `index` is the argument holding the path; `prefix` is the option
 * text before the path inside that same argument ("" for a separate value, "-I" for "-Iinc", "--output=" …). */
export interface PathArg {
  index: number;
  prefix: string;
  path: string;
  role: PathRole;
}

export type Mode =
  | 'link' // produces a linked module (the default)
  | 'compile' // -c: object files
  | 'other'; // -S, -E, -fsyntax-only, -M/-MM, --version, -### … : no linked module

export interface ParsedArgs {
  mode: Mode;
  /** The -o value when given (the last one wins, like clang). */
  output?: string;
  /** Index of the argument holding the -o value. */
  outputIndex?: number;
  /** 0..3: the last -O level (-Os/-Oz count as 2, -Ofast as 3, bare -O as 1); 0 when none. */
  optLevel: number;
  /** The last -O asked for size (-Os, -Oz). */
  optForSize: boolean;
  paths: PathArg[];
  /** A --target / -target was given. */
  hasTarget: boolean;
  /** --sysroot / -isysroot was given. */
  hasSysroot: boolean;
  /** -M, -MM, -MD or -MMD: the command writes make dependency files. */
  writesDeps: boolean;
  /** An exception-handling option (-fexceptions, -fno-exceptions, -fcxx-exceptions, -fwasm-exceptions …) was given. */
  hasExceptionFlag: boolean;
  /** The command reads a source from standard input ("-"). */
  readsStdin: boolean;
  /** Options that turn a link into a relocatable/shared link, which kafu does not instrument. */
  partialLink: boolean;
}

// Options whose value is the next argument (when not joined). Path-valued ones are listed with their role.
const SEPARATE_PATH: Record<string, PathRole> = {
  '-o': 'output',
  '-I': 'include-dir',
  '-isystem': 'include-dir',
  '-iquote': 'include-dir',
  '-idirafter': 'include-dir',
  '-include': 'include-file',
  '-imacros': 'include-file',
  '-L': 'lib-dir',
  '-MF': 'output',
  '-serialize-diagnostics': 'output',
  '--output': 'output',
  '--include-directory': 'include-dir',
  '--library-directory': 'lib-dir',
};
const JOINED_PATH: [string, PathRole][] = [
  ['--output=', 'output'],
  ['--include-directory=', 'include-dir'],
  ['--library-directory=', 'lib-dir'],
  ['-isystem', 'include-dir'],
  ['-iquote', 'include-dir'],
  ['-idirafter', 'include-dir'],
  ['-MF', 'output'],
  ['-o', 'output'],
  ['-I', 'include-dir'],
  ['-L', 'lib-dir'],
];
const SEPARATE_VALUE = new Set([
  '-D', '-U', '-l', '-x', '-target', '-MT', '-MQ', '-Xlinker', '-Xclang', '-Xpreprocessor', '-Xassembler', '-mllvm',
  '-arch', '-u', '-e', '-z', '-T', '-isysroot', '--sysroot', '-iprefix', '-iwithprefix', '-iwithprefixbefore',
  '-ivfsoverlay', '-resource-dir', '-B', '-F', '-A', '--param', '-MJ', '-dependency-file', '-working-directory',
  '--define-macro', '--undefine-macro', '--std', '--language',
]);
// Options that mean "no linked module comes out".
const NO_LINK = new Set(['-S', '-E', '-fsyntax-only', '-M', '-MM', '-###', '--version', '-dumpversion', '-dumpmachine',
  '-help', '--help', '--help-hidden', '-print-search-dirs', '-print-libgcc-file-name', '-print-resource-dir',
  '-print-targets', '-print-target-triple', '-print-effective-triple', '-print-supported-cpus', '-emit-llvm', '-precompile',
  '--precompile', '-fmodule-only', '-emit-ast', '-print-multi-directory', '-print-multi-lib']);

function optLevelOf(arg: string): number | undefined {
  if (!arg.startsWith('-O')) return undefined;
  const v = arg.slice(2);
  if (v === '' || v === '1' || v === 'g') return 1;
  if (v === '0') return 0;
  if (v === '2' || v === 's' || v === 'z') return 2;
  if (v === 'fast' || /^[3-9]$/.test(v)) return 3;
  return undefined;
}

export function parseClangArgs(args: readonly string[]): ParsedArgs {
  let compileOnly = false;
  let noLink = false;
  let inputs = 0;
  const out: ParsedArgs = { mode: 'link', optLevel: 0, optForSize: false, paths: [], hasTarget: false, hasSysroot: false, hasExceptionFlag: false, writesDeps: false, readsStdin: false, partialLink: false };
  let afterDashDash = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (afterDashDash || a === '-' || !a.startsWith('-')) {
      if (a === '-') out.readsStdin = true;
      else if (!a.startsWith('@')) out.paths.push({ index: i, prefix: '', path: a, role: 'input' });
      inputs++;
      continue;
    }
    if (a === '--') {
      afterDashDash = true;
      continue;
    }
    if (a === '-c') compileOnly = true;
    else if (NO_LINK.has(a) || a.startsWith('-print-file-name=') || a.startsWith('-print-prog-name=')) noLink = true;
    else if (a === '-r' || a === '-shared' || a === '-Wl,-r' || a === '-Wl,--relocatable' || a === '-Wl,-shared') out.partialLink = true;
    const o = optLevelOf(a);
    if (o !== undefined) {
      out.optLevel = o;
      out.optForSize = a === '-Os' || a === '-Oz';
    }
    if (a === '-M' || a === '-MM' || a === '-MD' || a === '-MMD') out.writesDeps = true;
    if (/^-f(no-)?(cxx-|wasm-)?exceptions$/.test(a) || a.startsWith('-fwasm-exceptions')) out.hasExceptionFlag = true;
    if (a === '-target' || a.startsWith('--target=') || a.startsWith('-target=')) out.hasTarget = true;
    if (a === '--sysroot' || a.startsWith('--sysroot=') || a === '-isysroot' || (a.startsWith('-isysroot') && a.length > 9)) out.hasSysroot = true;

    const role = SEPARATE_PATH[a];
    if (role !== undefined) {
      const v = args[i + 1];
      if (v === undefined) break; // clang reports the missing value
      out.paths.push({ index: i + 1, prefix: '', path: v, role });
      if (role === 'output' && (a === '-o' || a === '--output')) {
        out.output = v;
        out.outputIndex = i + 1;
      }
      i++;
      continue;
    }
    if (SEPARATE_VALUE.has(a)) {
      i++;
      continue;
    }
    // -include / -imacros are separate-only; check them before the joined -I prefix.
    const joined = JOINED_PATH.find(([p]) => a.startsWith(p) && a.length > p.length);
    if (joined) {
      const [prefix, jrole] = joined;
      // "-I=dir" is sysroot-relative: not a host path.
      if (!(prefix === '-I' && a.startsWith('-I='))) {
        out.paths.push({ index: i, prefix, path: a.slice(prefix.length), role: jrole });
        if (prefix === '-o' || prefix === '--output=') {
          out.output = a.slice(prefix.length);
          out.outputIndex = i;
        }
      }
    }
  }
  if (noLink) out.mode = 'other';
  else if (compileOnly) out.mode = 'compile';
  else out.mode = inputs > 0 ? 'link' : 'other';
  return out;
}

/** Where the linked module goes: -o, else clang's default "a.out". */
export function linkOutput(parsed: ParsedArgs): string {
  return parsed.output ?? 'a.out';
}

/** Expand `@file` response files (GNU quoting, nested up to 16 levels), as clang itself would. */
export async function expandResponseFiles(
  args: readonly string[],
  readText: (path: string) => Promise<string>,
  depth = 0,
): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    if (!a.startsWith('@') || a.length === 1) {
      out.push(a);
      continue;
    }
    if (depth > 16) throw new UserError(`response files nested too deeply at ${a}`);
    let text: string;
    try {
      text = await readText(a.slice(1));
    } catch {
      out.push(a); // clang treats an unreadable @file as an ordinary argument and reports it
      continue;
    }
    out.push(...(await expandResponseFiles(tokenizeResponseFile(text), readText, depth + 1)));
  }
  return out;
}

export function tokenizeResponseFile(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inToken = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inToken = true;
    } else if (/\s/.test(c)) {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += c;
      inToken = true;
    }
  }
  if (inToken) out.push(cur);
  return out;
}
