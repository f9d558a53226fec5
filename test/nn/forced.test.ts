// wasi-nn calls are migration points too (--kafu-syscall-points): the program moves after every system call —
// between set_input and compute, between compute and get_output — and each frame's output stays bit-identical
// to onnxruntime-node run directly.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { referenceLines, SPEECH_WAV } from '../support/silero.js';
import { buildNn, frameLines, runNn, shortWav } from './harness.js';

test('a migration after every WASI and wasi-nn call leaves the results unchanged', { timeout: 180_000 }, async () => {
  const wav = await shortWav(SPEECH_WAV, 12);
  const tmp = await mkdtemp(join(tmpdir(), 'kafu-nn-ref-'));
  let reference: string[];
  try {
    await writeFile(join(tmp, 'short.wav'), wav);
    reference = await referenceLines(join(tmp, 'short.wav'));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const wasm = await buildNn('vad.c', true);
  const r = await runNn(wasm, { args: ['vad.onnx', 'short.wav'], files: { 'short.wav': wav }, forced: 1 });
  assert.equal(r.exitCode, 0, r.stdout);
  assert.equal(frameLines(r.stdout).length, 12);
  assert.deepEqual(frameLines(r.stdout), reference);
  const after = (fn: string) => r.migrations.filter((m) => m.reason === 'forced' && m.fn === fn).length;
  for (const fn of ['load', 'init_execution_context', 'set_input', 'compute', 'get_output']) {
    assert.ok(after(fn) > 0, `no migration after ${fn}`);
  }
  assert.equal(after('compute'), 12);
  assert.equal(after('set_input'), 36);
});
