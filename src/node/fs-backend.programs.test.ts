// Real C programs (test/programs/wasi/*.c, built by @yowasp/clang) run on our WASI host over a temp dir.
// Compiled modules are cached by content hash under .cache/; the tests skip when the compiler is missing.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WasiExit, WasiHost, type WasiOptions } from '../wasi/index.js';
import { NodeFsBackend } from './fs-backend.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const programs = join(repo, 'test/programs/wasi');

type RunClang = (args: string[], files: Record<string, string>, opts: object) => Promise<Record<string, unknown>>;
let runClang: RunClang | null = null;
try {
  ({ runClang } = (await import('@yowasp/clang' as string)) as { runClang: RunClang });
} catch {
  runClang = null;
}

async function build(file: string, flags: string[]): Promise<WebAssembly.Module> {
  const source = readFileSync(join(programs, file), 'utf8');
  const key = createHash('sha256').update(JSON.stringify([source, flags])).digest('hex').slice(0, 32);
  const cached = join(repo, '.cache/wasi-programs', `${key}.wasm`);
  if (existsSync(cached)) return WebAssembly.compile(readFileSync(cached));
  let log = '';
  const out = await runClang!(['clang', '-O2', ...flags, 'main.c', '-o', 'main.wasm'], { 'main.c': source }, {
    stdout: null,
    stderr: (b: Uint8Array | null) => { if (b) log += new TextDecoder().decode(b); },
  });
  const wasm = out['main.wasm'];
  if (!(wasm instanceof Uint8Array)) throw new Error(`compiling ${file} failed:\n${log}`);
  mkdirSync(dirname(cached), { recursive: true });
  writeFileSync(cached, wasm);
  return WebAssembly.compile(new Uint8Array(wasm));
}

function hostFor(root: string, args: string[], out: string[], extra: Partial<WasiOptions> = {}): WasiHost {
  const dec = new TextDecoder();
  return new WasiHost({
    args, env: ['GREETING=hi'], preopens: [{ guestPath: '/', backend: new NodeFsBackend(root) }],
    stdout: (b) => out.push(dec.decode(b)), stderr: (b) => out.push(`[stderr] ${dec.decode(b)}`), ...extra,
  });
}

describe('C programs on the WASI host', { skip: runClang ? false : '@yowasp/clang is not installed' }, () => {
  it('fileops.c behaves as under wasmtime (files, dirs, errno text, sandbox, sleep)', async () => {
    const module = await build('fileops.c', []);
    const root = mkdtempSync(join(tmpdir(), 'kafu-wasi-c-'));
    try {
      const out: string[] = [];
      const host = hostFor(root, ['fileops', 'one'], out);
      const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: host.imports() });
      host.setMemory(instance.exports.memory as WebAssembly.Memory);
      let code = 0;
      try {
        (instance.exports._start as () => void)();
      } catch (e) {
        if (!(e instanceof WasiExit)) throw e;
        code = e.code;
      }
      assert.equal(code, 7);
      const text = out.join('');
      assert.equal(text, readFileSync(join(programs, 'fileops.expected'), 'utf8') + '[stderr] to stderr\n');
      assert.equal(readFileSync(join(root, 'moved.txt'), 'utf8'), 'line');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('migrate.c: an open FILE*, a half-read DIR and an fd offset continue on a fresh instance and host', async () => {
    const module = await build('migrate.c', ['-mexec-model=reactor']);
    const root = mkdtempSync(join(tmpdir(), 'kafu-wasi-c-'));
    try {
      const outA: string[] = [];
      const hostA = hostFor(root, ['migrate'], outA);
      const a = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: hostA.imports() });
      const memA = a.exports.memory as WebAssembly.Memory;
      hostA.setMemory(memA);
      (a.exports._initialize as () => void)();
      assert.equal((a.exports.step1 as () => number)(), 0);
      assert.deepEqual(outA, ['step1: read 012, 100 entries so far\n']);

      assert.equal(hostA.migrationBlocker(), null);
      const state = JSON.parse(JSON.stringify(hostA.exportState()));
      const outB: string[] = [];
      const hostB = hostFor(root, ['migrate'], outB);
      hostB.importState(state);
      const b = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: hostB.imports() });
      const memB = b.exports.memory as WebAssembly.Memory;
      const grow = (memA.buffer.byteLength - memB.buffer.byteLength) / 65536;
      if (grow > 0) memB.grow(grow);
      new Uint8Array(memB.buffer).set(new Uint8Array(memA.buffer));
      hostB.setMemory(memB);
      assert.equal((b.exports.step2 as () => number)(), 0);
      assert.deepEqual(outB, ['step2: rest 3456789, 154 entries in all, log: written before migration; written after migration\n']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
