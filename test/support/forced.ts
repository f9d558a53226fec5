// Forced-migration harness for the library OS: one C program, built twice — plainly, and with
// `--kafu-syscall-points` so that the runtime can move it to the next node after any WASI call — run once without
// migration (`runWasiModule`, what `kafu run` does) and once under `singlenodeServe` with `forceMigrationEvery`,
// each on its own fresh copy of the same initial folder preopened at "/". Tests compare the two results whole:
// stdout, stderr, exit code and every file, directory and symlink left in the folder.
//
// Every migration under singlenodeServe is a real checkpoint: snapshot bytes, a fresh instance, a fresh library OS
// that imports the exported WASI state. So a plain run and a migrating run can only differ where some WASI state
// did not travel.
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createLogger } from '../../src/core/log.js';
import { NodeFsBackend } from '../../src/node/fs-backend.js';
import { runWasiModule } from '../../src/run/run.js';
import { singlenodeServe, TRAP_EXIT_CODE } from '../../src/singlenode/singlenode.js';
import { buildWasm } from './build.js';

/** argv[0] of both runs. */
export const FORCED_PROGRAM_NAME = 'prog.wasm';

export interface ForcedOptions {
  /** Migrate to the next node after every `every`-th WASI call. */
  every: number;
  /** Node ids, in config order (default a, b); forced migrations go round robin. */
  nodes?: string[];
  /** Program arguments after argv[0]. */
  args?: string[];
  env?: Record<string, string>;
  /** Initial files of the mount at "/" (relative path → content); folders are made as needed. */
  files?: Record<string, string>;
  /** Called on each fresh mount folder after `files` are written (plant symlinks, hard links …). */
  prepare?: (dir: string) => Promise<void> | void;
  /** clang arguments for both builds (default -O1). */
  cflags?: string[];
  /**
   * Where the migrating run keeps "/": one folder both nodes use (`preopened_dir`, the default), or a folder per
   * node (a follow mount with host `./state/${node}`), so that every migration carries the changed files. The
   * initial files go to the first node's folder; `files` is then the folder of the node the program ended on.
   */
  storage?: 'shared' | 'per-node';
}

export interface ForcedRun {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** The mount's tree afterwards: "dir/" → "", "file" → content, "link" → "-> target". */
  files: Record<string, string>;
}

export interface ForcedMigratingRun extends ForcedRun {
  /** How many times the program moved. */
  migrations: number;
  /** Runtime log lines without timestamp and level. */
  logs: string[];
  /** Resumes in an instance a node kept, and of those, the ones that wrote only the pages a delta changed. */
  warmResumes: number;
  deltaResumes: number;
}

export interface ForcedResult {
  plain: ForcedRun;
  migrating: ForcedMigratingRun;
}

function collector(): { write: (b: Uint8Array) => void; text: () => string } {
  const chunks: Buffer[] = [];
  return { write: (b) => void chunks.push(Buffer.from(b)), text: () => Buffer.concat(chunks).toString('utf8') };
}

/** A fresh temporary folder (unique per call, so parallel test processes never share one). */
export async function freshDir(prefix = 'kafu-forced-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function writeFiles(dir: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** Every entry under `dir`, sorted: "sub/" → "", "file" → content (utf8), "link" → "-> target". */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(dir, rel))).sort();
    for (const name of names) {
      const p = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(join(dir, p));
      if (st.isSymbolicLink()) out[p] = `-> ${await readlink(join(dir, p))}`;
      else if (st.isDirectory()) {
        out[`${p}/`] = '';
        await walk(p);
      } else if (st.isFile()) out[p] = await readFile(join(dir, p), 'utf8');
      else out[p] = '(special)';
    }
  };
  await walk('');
  return out;
}

/** Run a plain WASI module with `kafu run`'s code, the folder `dir` preopened at "/". Traps exit 134, as singlenode. */
export async function runPlainModule(
  wasm: string,
  dir: string,
  opts: { args?: string[]; env?: Record<string, string> } = {},
): Promise<Omit<ForcedRun, 'files'>> {
  const out = collector();
  const err = collector();
  let exitCode: number;
  try {
    exitCode = await runWasiModule(new Uint8Array(await readFile(wasm)), wasm, {
      args: [FORCED_PROGRAM_NAME, ...(opts.args ?? [])],
      env: Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`),
      preopens: [{ guestPath: '/', backend: new NodeFsBackend(dir) }],
      stdout: out.write,
      stderr: err.write,
    });
  } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError)) throw e;
    exitCode = TRAP_EXIT_CODE;
  }
  return { stdout: out.text(), stderr: err.text(), exitCode };
}

export interface ServeOptions {
  nodes: string[];
  args?: string[];
  env?: Record<string, string>;
  /** preopened_dir (the follow mount at "/"). */
  preopenedDir?: string;
  /** More mounts: { guest, host, mode }; host may hold ${node}. */
  mounts?: { guest: string; host: string; mode?: 'follow' | 'node-local' }[];
  forceMigrationEvery?: number;
}

/**
 * Write a kafu-config.yaml (as JSON, which is YAML) into `workDir` naming a link to `wasm` called
 * FORCED_PROGRAM_NAME, and run it with singlenodeServe. Returns outputs and the runtime's log.
 */
export async function serveModule(wasm: string, workDir: string, o: ServeOptions): Promise<Omit<ForcedMigratingRun, 'files'>> {
  const modulePath = join(workDir, FORCED_PROGRAM_NAME);
  await symlink(wasm, modulePath);
  const config = {
    name: 'forced',
    app: {
      path: `./${FORCED_PROGRAM_NAME}`,
      args: o.args ?? [],
      env: o.env ?? {},
      ...(o.preopenedDir !== undefined ? { preopened_dir: o.preopenedDir } : {}),
      ...(o.mounts ? { mounts: o.mounts } : {}),
    },
    nodes: Object.fromEntries(o.nodes.map((id, i) => [id, { address: '127.0.0.1', port: 50051 + i }])),
  };
  const configPath = join(workDir, 'kafu-config.yaml');
  await writeFile(configPath, JSON.stringify(config, null, 2) + '\n');
  const out = collector();
  const err = collector();
  const logs: string[] = [];
  const log = createLogger((line) => {
    const m = /^\S+\s+[A-Z]+ (.*?)\n?$/s.exec(line);
    logs.push(m ? m[1]! : line);
  }, 'INFO');
  const result = await singlenodeServe(configPath, {
    log,
    stdout: out.write,
    stderr: err.write,
    forceMigrationEvery: o.forceMigrationEvery,
  });
  const { exitCode, migrations, warmResumes, deltaResumes } = result;
  return { stdout: out.text(), stderr: err.text(), exitCode, migrations, logs, warmResumes, deltaResumes };
}

/** The two builds of a program: plain, and with system-call migration points. */
export async function buildForced(sources: string[], cflags: string[] = ['-O1']): Promise<{ plain: string; migrating: string }> {
  // One after the other: the bundled compiler runs on this thread. C++ sources are built and linked as C++.
  const cxx = sources.some((s) => /\.(cc|cpp|cxx)$/.test(s));
  const plain = await buildWasm({ sources, args: cflags, instrument: false, cxx });
  const migrating = await buildWasm({ sources, args: [...cflags, '--kafu-syscall-points'], cxx });
  return { plain, migrating };
}

/**
 * Build `sources` (paths relative to the repository root) twice and run both builds, each on a fresh copy of the
 * same initial folder; the migrating one moves to the next node after every `every`-th WASI call.
 */
export async function runForced(sources: string[], o: ForcedOptions): Promise<ForcedResult> {
  if (!Number.isInteger(o.every) || o.every < 1) throw new Error(`runForced: every must be a whole number ≥ 1, not ${o.every}`);
  const wasm = await buildForced(sources, o.cflags);
  const nodes = o.nodes ?? ['a', 'b'];
  const perNode = o.storage === 'per-node';
  const root = await freshDir();
  try {
    const plainDir = join(root, 'plain');
    const work = join(root, 'migrating');
    const folderOf = (node: string) => (perNode ? join(work, 'state', node) : join(work, 'root'));
    for (const d of [plainDir, folderOf(nodes[0]!)]) {
      await mkdir(d, { recursive: true });
      await writeFiles(d, o.files ?? {});
      await o.prepare?.(d);
    }
    const plain = await runPlainModule(wasm.plain, plainDir, o);
    const migrating = await serveModule(wasm.migrating, work, {
      nodes,
      args: o.args,
      env: o.env,
      ...(perNode ? { mounts: [{ guest: '/', host: './state/${node}', mode: 'follow' as const }] } : { preopenedDir: './root' }),
      forceMigrationEvery: o.every,
    });
    const ended = /^Program (?:finished|trapped) on (\S+?):? /.exec(migrating.logs.find((l) => /^Program (finished|trapped) on /.test(l)) ?? '');
    const last = ended?.[1] ?? nodes[0]!;
    return {
      plain: { ...plain, files: await snapshotTree(plainDir) },
      migrating: { ...migrating, files: await snapshotTree(folderOf(last)) },
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** The parts of a run tests compare (everything but the migration count and log). */
export function observable(r: ForcedRun): ForcedRun {
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode, files: r.files };
}
