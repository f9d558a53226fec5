// Running the bundled toolchain (@yowasp/clang: clang, wasm-ld and wasi-libc compiled to wasm). It sees only an
// in-memory file tree whose root "/" is also its working directory, so:
//   * the host's working directory becomes the virtual root: relative paths stay verbatim, and so do the file
//     names in diagnostics;
//   * any other host path (absolute, or relative through "..") lives under HOST_PREFIX + its absolute path, and
//     diagnostics are rewritten back (HOST_PREFIX + "/x" → "/x");
//   * what clang may read is loaded up front: every input, -include file and archive in a -L folder, and the
//     headers (by extension) under each source's folder and each -I folder;
//   * whatever is new or changed in the tree clang returns is an output; the caller writes it to the host.
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { lineSplitter } from './files.js';
import { type ParsedArgs } from './args.js';
import { CacheKey, cacheGet, cachePut, codeIdentity, packParts, unpackParts } from './cache.js';
import { loadBundled, packageIncludeDir, type YowaspTree } from './toolchain.js';
import { runClangWithTwin } from './twin-link.js';

export const HOST_PREFIX = '/.kafu-host';
/** Top-level names the toolchain owns in its tree: its sysroot (/usr) and its temporary files (/tmp). */
const RESERVED_ROOT = new Set(['usr', 'tmp', HOST_PREFIX.slice(1)]);

const HEADER_EXT = /\.(h|hh|hpp|hxx|h\+\+|H|inc|inl|ipp|tcc|tpp|def|modulemap)$/;
const LIB_EXT = /\.(a|o|obj|so|wasm)$/;
const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', '.cache', 'dist']);

/** Limits on what header scanning loads (a source in $HOME must not pull in the whole home folder). */
export const SCAN_LIMITS = { maxDepth: 8, maxEntries: 20_000, maxBytes: 64 * 1024 * 1024 };

type Tree = YowaspTree;

export class VirtualTree {
  readonly tree: Tree = {};
  /** virtual path → bytes put there (to tell outputs from inputs afterwards). */
  readonly loaded = new Map<string, Uint8Array>();
  private entries = 0;
  private bytes = 0;
  private scannedDirs = new Set<string>();
  truncatedAt: string | undefined;

  constructor(readonly cwd: string) {}

  /** The virtual spelling of a host path argument. */
  toVirtual(arg: string): string {
    const abs = resolve(this.cwd, arg);
    const rel = relative(this.cwd, abs);
    const parts = arg.split(/[/\\]/);
    const verbatim =
      !isAbsolute(arg) && !parts.includes('..') && rel !== '' && !rel.startsWith('..') && !RESERVED_ROOT.has(rel.split(sep)[0]!);
    if (verbatim) return arg;
    if (rel === '' && !isAbsolute(arg)) return '.';
    return HOST_PREFIX + abs.split(sep).join('/');
  }

  /** The host path of a virtual absolute path (as found in the returned tree). */
  toHost(virtualPath: string): string {
    if (virtualPath.startsWith(HOST_PREFIX + '/')) return virtualPath.slice(HOST_PREFIX.length);
    return resolve(this.cwd, virtualPath.replace(/^\/+/, ''));
  }

  private static components(virtualPath: string): string[] {
    return virtualPath.split('/').filter((c) => c !== '' && c !== '.');
  }

  /** Virtual absolute path for a virtual spelling (relative ones are relative to "/"). */
  static absolute(virtualSpelling: string): string {
    return '/' + VirtualTree.components(virtualSpelling).join('/');
  }

  ensureDir(virtualPath: string): Tree {
    let dir = this.tree;
    for (const c of VirtualTree.components(virtualPath)) {
      const next = dir[c];
      if (next === undefined || typeof next === 'string' || next instanceof Uint8Array) dir[c] = {};
      dir = dir[c] as Tree;
    }
    return dir;
  }

  put(virtualPath: string, data: Uint8Array): void {
    const comps = VirtualTree.components(virtualPath);
    const name = comps.pop();
    if (!name) return;
    const dir = this.ensureDir(comps.join('/'));
    if (typeof dir[name] === 'object' && !(dir[name] instanceof Uint8Array)) return; // a folder is there
    dir[name] = data;
    this.loaded.set('/' + [...comps, name].join('/'), data);
  }

  async loadFile(hostPath: string, virtualSpelling: string): Promise<boolean> {
    try {
      const st = await stat(hostPath);
      if (!st.isFile()) return false;
      this.put(VirtualTree.absolute(virtualSpelling), new Uint8Array(await readFile(hostPath)));
      return true;
    } catch {
      return false; // clang reports the missing file itself
    }
  }

  /** Load files matching `pattern` under `hostDir` into `virtualDir`, within SCAN_LIMITS. */
  async loadDir(hostDir: string, virtualDir: string, pattern: RegExp, recursive: boolean): Promise<void> {
    const key = `${hostDir}\0${virtualDir}\0${pattern.source}\0${recursive}`;
    if (this.scannedDirs.has(key)) return;
    this.scannedDirs.add(key);
    const atVirtualRoot = VirtualTree.absolute(virtualDir) === '/';
    const walk = async (host: string, virt: string, depth: number, top: boolean): Promise<void> => {
      let names: import('node:fs').Dirent[];
      try {
        names = await readdir(host, { withFileTypes: true });
      } catch {
        return;
      }
      names.sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const d of names) {
        if (this.truncatedAt) return;
        if (++this.entries > SCAN_LIMITS.maxEntries) {
          this.truncatedAt = host;
          return;
        }
        const h = join(host, d.name);
        const v = `${virt}/${d.name}`;
        if (d.isDirectory()) {
          if (!recursive || depth >= SCAN_LIMITS.maxDepth || SKIP_DIRS.has(d.name) || d.name.startsWith('.')) continue;
          if (top && atVirtualRoot && RESERVED_ROOT.has(d.name)) continue;
          await walk(h, v, depth + 1, false);
        } else if ((d.isFile() || d.isSymbolicLink()) && pattern.test(d.name)) {
          if (this.loaded.has(VirtualTree.absolute(v))) continue;
          try {
            const st = await stat(h);
            if (!st.isFile()) continue;
            if (this.bytes + st.size > SCAN_LIMITS.maxBytes) {
              this.truncatedAt = host;
              return;
            }
            this.bytes += st.size;
            this.put(VirtualTree.absolute(v), new Uint8Array(await readFile(h)));
          } catch {
            /* unreadable: skip */
          }
        }
      }
    };
    await walk(hostDir, VirtualTree.absolute(virtualDir).replace(/\/$/, ''), 0, true);
  }

  /** Every file in `tree` that is new or differs from what was loaded: virtual path → bytes. */
  changedFiles(tree: Tree): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    const walk = (t: Tree, prefix: string): void => {
      for (const [name, v] of Object.entries(t)) {
        const p = `${prefix}/${name}`;
        if (typeof v === 'string' || v instanceof Uint8Array) {
          const bytes = typeof v === 'string' ? new TextEncoder().encode(v) : v;
          const before = this.loaded.get(p);
          if (before === bytes || (before && equalBytes(before, bytes))) continue;
          out.set(p, bytes);
        } else {
          walk(v, p);
        }
      }
    };
    walk(tree, '');
    return out;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Turns virtual paths in the toolchain's messages back into what the user wrote: a remapped argument's virtual
 * path (file, or folder followed by "/") becomes its original spelling; any other HOST_PREFIX + "/abs" → "/abs".
 */
export class PathRewriter {
  private readonly map = new Map<string, string>();
  private re: RegExp | undefined;

  add(virtual: string, original: string): void {
    if (virtual === original || !virtual.startsWith(HOST_PREFIX + '/')) return;
    if (!this.map.has(virtual)) this.map.set(virtual, original);
    this.re = undefined;
  }

  rewrite(text: string): string {
    if (!text.includes(HOST_PREFIX)) return text;
    if (!this.re) {
      const keys = [...this.map.keys(), HOST_PREFIX + '/'].sort((a, b) => b.length - a.length);
      this.re = new RegExp(keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    }
    return text.replace(this.re, (m) => this.map.get(m) ?? '/');
  }
}

/**
 * Make dependency files name headers as the toolchain saw them: its own sysroot under /usr (not on the host: make
 * would fail with "No rule to make target /usr/include/…") and other host files under HOST_PREFIX. Drop the
 * former (system headers, as -MMD would) and map the latter back.
 */
export function fixDepFile(text: string, rewriter: PathRewriter): string {
  const lines = text.split('\n').filter((l) => !/^\/usr\/\S*:\s*$/.test(l)); // -MP phony targets
  return rewriter.rewrite(
    lines
      .map((l) => l.replace(/(^|[ \t])\/usr\/\S+(?=\s|$)/g, '$1'))
      .filter((l) => !/^\s*\\$/.test(l))
      .join('\n'),
  );
}

export interface BundledRun {
  argv0: 'clang' | 'clang++';
  /** clang arguments, kafu flags already removed. */
  args: string[];
  parsed: ParsedArgs;
  cwd: string;
  stdin?: Uint8Array;
  stdout: (chunk: Uint8Array | string) => void;
  stderr: (text: string) => void;
  log: (line: string) => void;
  verbose: boolean;
  /** Where KAFU_CACHE / KAFU_CACHE_DIR are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Link a second time with the table placed higher (src/clang/twin-link.ts), for the instrumenter, if the
   * linked module is one this says yes to. */
  twin?: (linked: Uint8Array) => boolean;
}

export interface BundledResult {
  code: number;
  /** host path → content, for every file the command produced (only when code is 0). */
  outputs: Map<string, Uint8Array>;
  /** The second link's module, when `twin` was asked for and it linked. */
  twin?: Uint8Array;
}

let loaded: Promise<void> | undefined;

/** Progress appears only when loading takes longer than this (a warm page cache loads in ~0.5 s). */
const PROGRESS_DELAY_MS = 700;

/** Load the toolchain's ~100 MB of wasm once per process, reporting progress through `log` (never stdout). */
export async function ensureBundledLoaded(log: (line: string) => void): Promise<void> {
  const yowasp = await loadBundled();
  if (!loaded) {
    const started = Date.now();
    let lastAt = 0;
    let lastPercent = -1;
    let printed = false;
    let status = { totalLength: 0, doneLength: 0 };
    const report = (force: boolean): void => {
      const { totalLength, doneLength } = status;
      const percent = totalLength > 0 ? Math.floor((100 * doneLength) / totalLength) : 0;
      const now = Date.now();
      if (!force && (now - started < PROGRESS_DELAY_MS || percent === lastPercent || now - lastAt < 1000)) return;
      lastAt = now;
      lastPercent = percent;
      printed = true;
      const mb = totalLength > 0 ? `${Math.round(totalLength / 1e6)} MB` : '~100 MB';
      log(`kafu clang: loading the bundled toolchain (${mb}): ${percent}%`);
    };
    const timer = setTimeout(() => report(true), PROGRESS_DELAY_MS);
    loaded = Promise.resolve(
      yowasp.runClang(null, {}, {
        fetchProgress: (e) => {
          status = e;
          report(false);
        },
      }),
    ).then(
      () => {
        clearTimeout(timer);
        if (printed && lastPercent !== 100) {
          status = { totalLength: status.totalLength, doneLength: status.totalLength };
          report(true);
        }
      },
      (e: unknown) => {
        clearTimeout(timer);
        loaded = undefined;
        throw e;
      },
    );
  }
  await loaded;
}

export async function runBundled(run: BundledRun): Promise<BundledResult> {
  const yowasp = await loadBundled();
  const vt = new VirtualTree(run.cwd);
  const args = [...run.args];
  const { parsed } = run;

  // Map and load every path argument.
  const sourceDirs = new Set<string>();
  const depOutputs = new Set<string>();
  const rewriter = new PathRewriter();
  for (const p of parsed.paths) {
    const v = vt.toVirtual(p.path);
    args[p.index] = p.prefix + v;
    if (p.role === 'output' && args[p.index - 1] === '-MF') depOutputs.add(VirtualTree.absolute(v));
    if (p.role === 'output' && p.prefix === '-MF') depOutputs.add(VirtualTree.absolute(v));
    if (p.role === 'include-dir' || p.role === 'lib-dir') rewriter.add(v.replace(/\/?$/, '/'), p.path.replace(/\/?$/, '/'));
    else {
      rewriter.add(v, p.path);
      const slash = p.path.lastIndexOf('/');
      if (p.role === 'input' && slash > 0) rewriter.add(parentOf(v) + '/', p.path.slice(0, slash + 1));
    }
    const host = resolve(run.cwd, p.path);
    switch (p.role) {
      case 'input':
      case 'include-file':
        if (await vt.loadFile(host, v)) {
          if (p.role === 'input' && !LIB_EXT.test(p.path)) sourceDirs.add(`${resolve(host, '..')}\0${parentOf(v)}`);
        }
        break;
      case 'include-dir':
        await vt.loadDir(host, v, HEADER_EXT, true);
        break;
      case 'lib-dir':
        await vt.loadDir(host, v, LIB_EXT, false);
        break;
      case 'output': {
        const parentHost = resolve(host, '..');
        try {
          if ((await stat(parentHost)).isDirectory()) vt.ensureDir(parentOf(VirtualTree.absolute(v)));
        } catch {
          /* clang reports that it cannot open the output */
        }
        break;
      }
    }
  }
  for (const key of sourceDirs) {
    const [host, virt] = key.split('\0') as [string, string];
    await vt.loadDir(host, virt, HEADER_EXT, true);
  }
  const inc = packageIncludeDir();
  const incV = vt.toVirtual(inc);
  await vt.loadDir(inc, incV, HEADER_EXT, true);
  if (vt.truncatedAt) {
    run.log(
      `kafu clang: note: stopped loading headers at ${vt.truncatedAt} (over ${SCAN_LIMITS.maxEntries} entries or ` +
        `${SCAN_LIMITS.maxBytes / 1048576} MB); the bundled toolchain only sees loaded headers — name header folders ` +
        'with -I, compile from a smaller folder, or use a native toolchain (WASI_SDK_PATH)',
    );
  }

  const extra: string[] = ['-I', incV];
  if (!parsed.hasTarget) extra.unshift('--target=wasm32-wasip1');
  for (let i = 0; i < args.length; i++) {
    // The bundled sysroot is laid out for wasip1; accept the older spelling.
    if (args[i] === '--target=wasm32-wasi') args[i] = '--target=wasm32-wasip1';
    if (args[i] === '-target' && args[i + 1] === 'wasm32-wasi') args[i + 1] = 'wasm32-wasip1';
  }
  const fullArgs = [run.argv0, ...extra, ...args];
  if (run.verbose) run.log(`kafu clang: bundled toolchain (@yowasp/clang): ${fullArgs.join(' ')}`);

  // The toolchain reads nothing but the tree: the arguments and the loaded files are the whole input.
  const twin = parsed.mode === 'link' ? run.twin : undefined;
  const key = parsed.mode === 'other' || run.stdin ? undefined : treeKey(twin ? [...fullArgs, TWIN_ENTRY] : fullArgs, vt, yowasp.version);
  const finish = (tree: Map<string, Uint8Array>): BundledResult => {
    const outputs = new Map<string, Uint8Array>();
    for (const [v, bytes] of tree) {
      if (v === TWIN_ENTRY) continue;
      const isDeps = parsed.writesDeps && (v.endsWith('.d') || depOutputs.has(v));
      outputs.set(vt.toHost(v), isDeps ? new TextEncoder().encode(fixDepFile(new TextDecoder().decode(bytes), rewriter)) : bytes);
    }
    const twinBytes = tree.get(TWIN_ENTRY);
    return { code: 0, outputs, ...(twinBytes ? { twin: twinBytes } : {}) };
  };
  const cached = key === undefined ? undefined : fromCache(key, run.env);
  if (cached) {
    if (run.verbose) run.log('kafu clang: the same inputs were built before: result taken from the cache');
    if (cached.stdout.length) run.stdout(cached.stdout);
    if (cached.stderr) run.stderr(cached.stderr);
    return finish(cached.files);
  }

  await ensureBundledLoaded(run.log);

  // When clang fails early, the bundled driver echoes its whole `-###` banner; only the diagnostics matter.
  const banner = /^(clang version |Target: |Thread model: |InstalledDir: ?|Build config: )/;
  const said: string[] = [];
  const heard: Uint8Array[] = [];
  const err = lineSplitter((line) => {
    if (!run.verbose && banner.test(line)) return;
    const text = rewriter.rewrite(line);
    said.push(text);
    run.stderr(text);
  });
  const outText = parsed.mode === 'other';
  const out = lineSplitter((line) => run.stdout(rewriter.rewrite(line)));
  let stdinPos = 0;
  const stdinBytes = run.stdin;
  const options = {
    stdout: (bytes: Uint8Array | null) => {
      if (bytes === null) return;
      if (outText) out.push(bytes);
      else {
        heard.push(bytes.slice());
        run.stdout(bytes.slice());
      }
    },
    stderr: (bytes: Uint8Array | null) => {
      if (bytes !== null) err.push(bytes);
    },
    stdin: (n: number) => {
      if (!stdinBytes || stdinPos >= stdinBytes.length) return null;
      const chunk = stdinBytes.subarray(stdinPos, stdinPos + n);
      stdinPos += chunk.length;
      return chunk;
    },
    decodeASCII: false,
  };
  try {
    const twinRun = twin ? await runClangWithTwin(yowasp, fullArgs, vt.tree, options, twin) : undefined;
    const tree = twinRun?.tree ?? ((await yowasp.runClang(fullArgs, vt.tree, options)) as Tree);
    out.flush();
    err.flush();
    const files = vt.changedFiles(tree);
    if (twinRun?.twin) files.set(TWIN_ENTRY, twinRun.twin);
    if (key !== undefined) toCache(key, { stdout: Buffer.concat(heard), stderr: said.join(''), files }, run.env);
    return finish(files);
  } catch (e) {
    out.flush();
    err.flush();
    if (e instanceof yowasp.Exit) return { code: e.code || 1, outputs: new Map() };
    throw e;
  }
}

/** Where a run's twin link is kept among its files (in the cache too): not a path, so no file of the tree's. */
const TWIN_ENTRY = 'kafu:table-base-twin';

interface CachedRun {
  stdout: Uint8Array;
  stderr: string;
  /** virtual path → bytes, as the toolchain wrote them. */
  files: Map<string, Uint8Array>;
}

function treeKey(fullArgs: string[], vt: VirtualTree, toolchainVersion: string): string {
  const key = new CacheKey().add(codeIdentity({ yowasp: toolchainVersion })).add(JSON.stringify(fullArgs));
  for (const path of [...vt.loaded.keys()].sort()) key.add(path).add(vt.loaded.get(path)!);
  return key.digest();
}

function fromCache(key: string, env: NodeJS.ProcessEnv | undefined): CachedRun | undefined {
  const entry = cacheGet('clang', key, env);
  const parts = entry && unpackParts(entry);
  if (!parts || parts.length < 2 || parts[0]![0] !== 'stdout' || parts[1]![0] !== 'stderr') return undefined;
  const files = new Map(parts.slice(2).map(([name, bytes]) => [name, bytes] as const));
  return { stdout: parts[0]![1], stderr: new TextDecoder().decode(parts[1]![1]), files };
}

function toCache(key: string, run: CachedRun, env: NodeJS.ProcessEnv | undefined): void {
  cachePut('clang', key, packParts([['stdout', run.stdout], ['stderr', new TextEncoder().encode(run.stderr)], ...run.files]), env);
}

function parentOf(virtualPath: string): string {
  const i = virtualPath.lastIndexOf('/');
  if (i < 0) return '.';
  if (i === 0) return '/';
  return virtualPath.slice(0, i);
}
