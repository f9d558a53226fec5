// Running compiled test programs in-process: `runMigrating` through `kafu singlenode serve` (every migration is a
// real checkpoint → snapshot bytes → restore into a fresh instance), `runPlain` through `kafu run` (no
// migration). Tests compare the two: same stdout, stderr, files and exit code, plus the exact migration sequence.
import { mkdtemp, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createLogger } from '../../src/core/log.js';
import type { Migration } from '../../src/core/migration-stack.js';
import { NodeFsBackend } from '../../src/node/fs-backend.js';
import { runWasiModule } from '../../src/run/run.js';
import { singlenodeServe } from '../../src/singlenode/singlenode.js';

/** argv[0] of every test run, migrating or not, so that both see the same program name. */
export const PROGRAM_NAME = 'main.wasm';

export interface RunOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface MigratingOutput extends RunOutput {
  migrations: Migration[];
  /** Bytes each migration's transfer carried (same order as `migrations`). */
  snapshotBytes: number[];
  /** Runtime log messages (without timestamp and level), e.g. "Migration cloud -> edge (Entering f)". */
  logs: string[];
  /** What singlenodeServe reported. */
  result: { exitCode: number; migrations: number; downtimeMs: number };
}

export interface RunOptions {
  /** Program arguments after argv[0]. */
  args?: string[];
  /** Host folder preopened as the guest's "/". */
  dir?: string;
}

export interface MigratingOptions extends RunOptions {
  /** Node ids in config order: the first one starts the program. */
  nodes: string[];
  /** cluster.migration of the config (default: Kafu's, delta with compression). */
  migration?: { memory_migration?: 'delta' | 'full'; memory_compression?: boolean };
}

function collector(): { write: (b: Uint8Array) => void; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    // The host may reuse the buffer it hands out: copy.
    write: (b) => void chunks.push(Buffer.from(b)),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

/** A kafu-config.yaml for `nodes` (loopback, distinct ports) running `modulePath`. */
export function configText(modulePath: string, opts: MigratingOptions, name = 'test'): string {
  const lines = [
    `name: ${JSON.stringify(name)}`,
    'app:',
    `  path: ${JSON.stringify(modulePath)}`,
    `  args: ${JSON.stringify(opts.args ?? [])}`,
  ];
  if (opts.dir !== undefined) lines.push(`  preopened_dir: ${JSON.stringify(opts.dir)}`);
  lines.push('nodes:');
  opts.nodes.forEach((id, i) => {
    lines.push(`  ${JSON.stringify(id)}:`, '    address: 127.0.0.1', `    port: ${50051 + i}`);
  });
  if (opts.migration) lines.push('cluster:', `  migration: ${JSON.stringify(opts.migration)}`);
  return lines.join('\n') + '\n';
}

/** Run an instrumented module under `singlenodeServe` with a temporary config listing `nodes`. */
export async function runMigrating(wasmPath: string, opts: MigratingOptions): Promise<MigratingOutput> {
  const tmp = await mkdtemp(join(tmpdir(), 'kafu-run-'));
  try {
    // A link named PROGRAM_NAME, so that argv[0] does not depend on the build cache's file name.
    const modulePath = join(tmp, PROGRAM_NAME);
    await symlink(wasmPath, modulePath);
    const configPath = join(tmp, 'kafu-config.yaml');
    await writeFile(configPath, configText(modulePath, opts));
    const out = collector();
    const err = collector();
    const logs: string[] = [];
    const migrations: Migration[] = [];
    const snapshotBytes: number[] = [];
    const log = createLogger((line) => {
      // "<iso time> <LEVEL> <message>\n" → "<message>"
      const m = /^\S+\s+[A-Z]+ (.*)\n?$/s.exec(line);
      logs.push(m ? m[1]!.replace(/\n$/, '') : line);
    }, 'INFO');
    const result = await singlenodeServe(configPath, {
      log,
      stdout: out.write,
      stderr: err.write,
      onMigration: (m, bytes) => {
        migrations.push({ ...m });
        snapshotBytes.push(bytes);
      },
    });
    return { stdout: out.text(), stderr: err.text(), exitCode: result.exitCode, migrations, snapshotBytes, logs, result };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Run any WASI module (instrumented or not) with `kafu run`'s code: no migration. */
export async function runPlain(wasmPath: string, opts: RunOptions = {}): Promise<RunOutput> {
  const out = collector();
  const err = collector();
  const bytes = new Uint8Array(await readFile(wasmPath));
  const exitCode = await runWasiModule(bytes, wasmPath, {
    args: [PROGRAM_NAME, ...(opts.args ?? [])],
    env: [],
    preopens: opts.dir !== undefined ? [{ guestPath: '/', backend: new NodeFsBackend(opts.dir) }] : [],
    stdout: out.write,
    stderr: err.write,
  });
  return { stdout: out.text(), stderr: err.text(), exitCode };
}

/** A fresh temporary folder holding `files` (relative path → content). Remove it with `removeDir`. */
export async function makeDir(files: Record<string, string | Uint8Array> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kafu-dir-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Every regular file under `dir` (relative path → content as text), sorted by path. */
export async function readTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out[relative(dir, p) + '/'] = '';
        await walk(p);
      } else if (e.isFile()) out[relative(dir, p)] = await readFile(p, 'utf8');
    }
  };
  await walk(dir);
  return out;
}

/** Shorthand for expected migrations: m('cloud', 'edge', 'enter', 'f'). */
export function m(from: string, to: string, reason: 'enter' | 'return', fn: string): Migration {
  return { from, to, reason, fn };
}

/**
 * Run the instrumented build migrating and the uninstrumented build plainly, each on its own copy of
 * `files` (when given, preopened as "/"); return both outputs and both folders' contents afterwards.
 */
export async function runBoth(
  instrumented: string,
  plain: string,
  opts: Pick<MigratingOptions, 'nodes' | 'args' | 'migration'> & { files?: Record<string, string> },
): Promise<{ migrating: MigratingOutput; plain: RunOutput; migratingFiles?: Record<string, string>; plainFiles?: Record<string, string> }> {
  if (!opts.files) {
    const migrating = await runMigrating(instrumented, { nodes: opts.nodes, args: opts.args, migration: opts.migration });
    const plainOut = await runPlain(plain, { args: opts.args });
    return { migrating, plain: plainOut };
  }
  const d1 = await makeDir(opts.files);
  const d2 = await makeDir(opts.files);
  try {
    const migrating = await runMigrating(instrumented, { nodes: opts.nodes, args: opts.args, migration: opts.migration, dir: d1 });
    const plainOut = await runPlain(plain, { args: opts.args, dir: d2 });
    return { migrating, plain: plainOut, migratingFiles: await readTree(d1), plainFiles: await readTree(d2) };
  } finally {
    await removeDir(d1);
    await removeDir(d2);
  }
}
