// Runs a wasi-nn test program under `kafu singlenode` (real checkpoint/restore at every hop) in a fresh folder
// holding the Silero VAD model (vad.onnx) and the speech recording (speech.wav), preopened at "/".
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/core/log.js';
import type { Migration } from '../../src/core/migration-stack.js';
import { singlenodeServe } from '../../src/singlenode/singlenode.js';
import { buildWasm } from '../support/build.js';
import { SILERO_MODEL, SPEECH_WAV } from '../support/silero.js';

export interface NnRun {
  stdout: string;
  exitCode: number;
  /** Log messages without timestamp and level (debug included). */
  logs: string[];
  migrations: Migration[];
  /** Bytes each hop sent, in order. */
  sent: number[];
}

export interface NnRunOptions {
  /** argv[1…]. */
  args: string[];
  /** YAML lines of app.nn (indented under `nn:`), e.g. ['models:', '  vad: { path: ./vad.onnx }']. */
  nn?: string[];
  /** Migrate after every N-th system call (needs a module built with --kafu-syscall-points). */
  forced?: number;
  /** Extra files of the folder. */
  files?: Record<string, string | Uint8Array>;
}

export function buildNn(source: string, syscallPoints = false): Promise<string> {
  return buildWasm({ sources: [`test/programs/nn/${source}`], args: ['-O2', ...(syscallPoints ? ['--kafu-syscall-points'] : [])] });
}

export async function runNn(wasm: string, o: NnRunOptions): Promise<NnRun> {
  const dir = await mkdtemp(join(tmpdir(), 'kafu-nn-'));
  try {
    await symlink(wasm, join(dir, 'main.wasm'));
    await copyFile(SILERO_MODEL, join(dir, 'vad.onnx'));
    await copyFile(SPEECH_WAV, join(dir, 'speech.wav'));
    for (const [name, content] of Object.entries(o.files ?? {})) await writeFile(join(dir, name), content);
    const config = [
      'name: nn-test',
      'app:',
      '  path: ./main.wasm',
      `  args: ${JSON.stringify(o.args)}`,
      '  preopened_dir: .',
      ...(o.nn ? ['  nn:', ...o.nn.map((l) => `    ${l}`)] : []),
      'nodes:',
      '  cloud: { address: 127.0.0.1, port: 50051 }',
      '  edge: { address: 127.0.0.1, port: 50052 }',
    ].join('\n');
    await writeFile(join(dir, 'kafu-config.yaml'), config + '\n');
    const out: Buffer[] = [];
    const logs: string[] = [];
    const migrations: Migration[] = [];
    const sent: number[] = [];
    const log = createLogger((line) => logs.push(line.replace(/^\S+\s+[A-Z]+ /, '').trimEnd()), 'DEBUG');
    const result = await singlenodeServe(join(dir, 'kafu-config.yaml'), {
      log,
      stdout: (b) => void out.push(Buffer.from(b)),
      stderr: (b) => void out.push(Buffer.from(b)),
      forceMigrationEvery: o.forced,
      onMigration: (m, bytes) => {
        migrations.push({ ...m });
        sent.push(bytes);
      },
    });
    return { stdout: Buffer.concat(out).toString('utf8'), exitCode: result.exitCode, logs, migrations, sent };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The per-frame lines of vad.c's output ("<frame> <bits>"). */
export const frameLines = (stdout: string): string[] => stdout.split('\n').filter((l) => /^\d+ [0-9a-f]{8}$/.test(l));

/** The first `frames` × 512 samples of `wav` (a 16-bit mono WAV with a 44-byte header) as a WAV file. */
export async function shortWav(wav: string, frames: number): Promise<Uint8Array> {
  const b = await readFile(wav);
  const bytes = frames * 512 * 2;
  const out = Buffer.concat([b.subarray(0, 44), b.subarray(44, 44 + bytes)]);
  out.writeUInt32LE(36 + bytes, 4);
  out.writeUInt32LE(bytes, 40);
  return out;
}
