// Run a plain (not instrumented) WASI command module and return what it printed on stdout.
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';

export async function runPlainWasi(path: string, args: string[] = []): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kafu-wasi-'));
  const outPath = join(dir, 'stdout');
  const fd = openSync(outPath, 'w');
  try {
    const wasi = new WASI({ version: 'preview1', args: ['prog', ...args], env: {}, stdout: fd, returnOnExit: true });
    const mod = await WebAssembly.compile(readFileSync(path));
    const instance = await WebAssembly.instantiate(mod, wasi.getImportObject() as WebAssembly.Imports);
    const code = wasi.start(instance);
    if (code !== 0) throw new Error(`${path} exited with ${code}`);
  } finally {
    closeSync(fd);
  }
  const out = readFileSync(outPath, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return out;
}
