// wasi-nn end to end with a real pretrained model (Silero VAD): a C program loads it on one node, analyses a
// speech recording on another, reports on the first; every frame's output must be bit-identical to
// onnxruntime-node run directly on the same inputs.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, test } from 'node:test';
import { createLogger } from '../../src/core/log.js';
import { NodeFsBackend } from '../../src/node/fs-backend.js';
import { NO_NN_CONFIG, NodeNn } from '../../src/node/node-nn.js';
import { runWasiModule } from '../../src/run/run.js';
import { referenceLines, SILERO_MODEL, SPEECH_WAV } from '../support/silero.js';
import { buildNn, frameLines, runNn } from './harness.js';

const T = { timeout: 120_000 };

describe('wasi-nn with Silero VAD', { concurrency: 1 }, () => {
  let wasm: string;
  let reference: string[];
  before(async () => {
    wasm = await buildNn('vad.c');
    reference = await referenceLines();
  }, T);

  test('graph loaded on cloud runs on edge; outputs equal onnxruntime-node direct; the model crosses once', T, async () => {
    const r = await runNn(wasm, { args: ['vad.onnx', 'speech.wav'] });
    assert.equal(r.exitCode, 0, r.stdout);
    assert.deepEqual(frameLines(r.stdout), reference);
    assert.match(r.stdout, /speech starts at 0\.\d\d s\n/);
    assert.deepEqual(r.migrations.map((m) => `${m.from}->${m.to}`), ['cloud->edge', 'edge->cloud']);
    // There: the 2.3 MB model (cloud loaded it, edge lacks it). Back: cloud holds it, so only a few pages.
    assert.ok(r.sent[0]! > 2_000_000, `first hop sent ${r.sent[0]} bytes`);
    assert.ok(r.sent[1]! < 200_000, `return hop sent ${r.sent[1]} bytes`);
  });

  test('kafu run runs it too, without migration', T, async () => {
    let out = '';
    // The host's root folder as the program's "/", so that the model and recording keep their paths.
    const code = await runWasiModule(await readFile(wasm), wasm, {
      args: ['vad.wasm', SILERO_MODEL.slice(1), SPEECH_WAV.slice(1)],
      env: [],
      preopens: [{ guestPath: '/', backend: new NodeFsBackend('/') }],
      stdout: (b) => void (out += Buffer.from(b).toString()),
      stderr: (b) => void (out += Buffer.from(b).toString()),
      moreHost: (wasi) => new NodeNn(NO_NN_CONFIG, createLogger(() => {})).host('local', (p, max) => wasi.readFile(p, max)),
    });
    assert.equal(code, 0, out);
    assert.deepEqual(frameLines(out), reference);
  });

  test('a rank-1 [1] sample rate works as well as a scalar', T, async () => {
    const r = await runNn(wasm, { args: ['vad.onnx', 'speech.wav', 'rank1'] });
    assert.equal(r.exitCode, 0, r.stdout);
    assert.deepEqual(frameLines(r.stdout), reference);
  });

  test('load_by_name finds a model only on the nodes the config gives it', T, async () => {
    const onEdgeOnly = ['models:', '  vad: { path: ./vad.onnx, nodes: [edge] }'];
    const r = await runNn(wasm, { args: ['@vad', 'speech.wav'], nn: onEdgeOnly });
    assert.equal(r.stdout, 'load_by_name failed: 8\n'); // not_found: the program starts on cloud
    assert.equal(r.exitCode, 1);
    const everywhere = await runNn(wasm, { args: ['@vad', 'speech.wav'], nn: ['models:', '  vad: { path: ./vad.onnx }'] });
    assert.equal(everywhere.exitCode, 0, everywhere.stdout);
    assert.deepEqual(frameLines(everywhere.stdout), reference);
  });

  test('target gpu without a CUDA provider: unsupported_operation, or the CPU when the config asks (logged)', T, async () => {
    const r = await runNn(wasm, { args: ['vad.onnx', 'speech.wav', 'gpu'] });
    assert.equal(r.stdout, 'load failed: 6\n');
    assert.ok(r.logs.some((l) => /CUDA provider is not available/.test(l)), r.logs.join('\n'));
    const fallback = await runNn(wasm, { args: ['vad.onnx', 'speech.wav', 'gpu'], nn: ['gpu_fallback: cpu'] });
    assert.equal(fallback.exitCode, 0, fallback.stdout);
    assert.deepEqual(frameLines(fallback.stdout), reference);
    assert.ok(fallback.logs.some((l) => /no CUDA provider on this node .*running on the CPU/.test(l)), fallback.logs.join('\n'));
  });
});
