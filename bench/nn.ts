// npm run bench:nn — wasi-nn's cost. (1) Per call: Silero VAD's compute (and a whole frame: 3 × set_input,
// compute, 2 × get_output), timed inside a C program through the library OS, against onnxruntime-node's
// session.run called directly on the same model and inputs in this process; also through the helper thread (the
// fallback path). Rounds alternate between them to share the machine's noise; the table gives the medians. (2) Bytes each hop sends for a program
// holding a loaded 2.3 MB model, over round trips cloud ↔ edge (kafu singlenode, real transfers).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/core/log.js';
import { sessionOptions } from '../src/node/onnx-convert.js';
import { singlenodeServe } from '../src/singlenode/singlenode.js';
import { buildWasm } from '../test/support/build.js';
import { SILERO_MODEL } from '../test/support/silero.js';

const N = Number(process.env.NN_BENCH_CALLS ?? 2000);
const ROUNDS = 5;
const HOPS = 4;
const dir = mkdtempSync(join(tmpdir(), 'kafu-bench-nn-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function direct(): Promise<{ compute: number; frame: number }> {
  const ort = await import('onnxruntime-node');
  // The session options the node uses (no spin-waiting between runs), so the difference is wasi-nn's own cost.
  const session = await ort.InferenceSession.create(SILERO_MODEL, sessionOptions(['cpu']));
  const input = new Float32Array(576).map((_, i) => ((i * 7919) % 2000 - 1000) / 4000);
  const feeds = {
    input: new ort.Tensor('float32', input, [1, 576]),
    state: new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]),
    sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
  };
  for (let i = 0; i < 50; i++) await session.run(feeds);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await session.run(feeds);
  const t1 = performance.now();
  // A frame as a program does it: fresh tensors over its buffers, outputs copied out.
  const state = new Float32Array(256);
  for (let i = 0; i < N; i++) {
    const r = await session.run({
      input: new ort.Tensor('float32', input, [1, 576]),
      state: new ort.Tensor('float32', state, [2, 1, 128]),
      sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
    });
    state.set(r.stateN!.data as Float32Array);
  }
  const t2 = performance.now();
  await session.release();
  return { compute: ((t1 - t0) * 1000) / N, frame: ((t2 - t1) * 1000) / N };
}

async function guest(wasm: string, hops: number): Promise<{ compute: number; frame: number; sent: number[] }> {
  const config = join(dir, 'kafu-config.yaml');
  writeFileSync(
    config,
    `name: bench-nn\napp:\n  path: ${wasm}\n  args: [${JSON.stringify(SILERO_MODEL.slice(1))}, "${N}", "${hops}"]\n  preopened_dir: /\n` +
      'nodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n  edge: { address: 127.0.0.1, port: 50052 }\n',
  );
  let out = '';
  const sent: number[] = [];
  const r = await singlenodeServe(config, {
    log: createLogger(() => {}),
    stdout: (b) => void (out += Buffer.from(b).toString()),
    onMigration: (_m, bytes) => sent.push(bytes),
  });
  if (r.exitCode !== 0) throw new Error(`bench program exited with ${r.exitCode}: ${out}`);
  const num = (k: string) => Number(new RegExp(`${k} ([\\d.]+)`).exec(out)![1]);
  return { compute: num('compute_us'), frame: num('frame_us'), sent };
}

try {
  const wasm = await buildWasm({ sources: ['bench/programs/nn_compute.c'], args: ['-O2'] });
  const g: Array<{ compute: number; frame: number }> = [];
  const h: Array<{ compute: number; frame: number }> = [];
  const d: Array<{ compute: number; frame: number }> = [];
  let sent: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = await guest(wasm, i === 0 ? HOPS : 0);
    if (i === 0) sent = r.sent;
    g.push(r);
    // The same through the helper thread (the path where onnxruntime-node's binding has an unknown shape).
    process.env['KAFU_NN_THREAD'] = 'helper';
    h.push(await guest(wasm, 0));
    delete process.env['KAFU_NN_THREAD'];
    d.push(await direct());
  }
  console.log(`Silero VAD v5 (${SILERO_MODEL.split('/').slice(-1)[0]}), ${N} calls per round, median of ${ROUNDS} rounds`);
  console.log('call                                   onnxruntime-node session.run µs  wasi-nn µs  overhead  helper thread µs  overhead');
  const pct = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1).padStart(8)} %`;
  for (const k of ['compute', 'frame'] as const) {
    const [a, b, c] = [median(d.map((x) => x[k])), median(g.map((x) => x[k])), median(h.map((x) => x[k]))];
    const label = k === 'compute' ? 'compute (session.run)' : 'frame (3 inputs, compute, 2 outputs)';
    console.log(`${label.padEnd(39)}${a.toFixed(1).padStart(31)}${b.toFixed(1).padStart(12)}${pct(a, b)}${c.toFixed(1).padStart(18)}${pct(a, c)}`);
  }
  console.log(`\nbytes sent per hop, program holding the loaded model (${HOPS} round trips, delta+compression):`);
  sent.forEach((b, i) => console.log(`  hop ${String(i + 1).padStart(2)} ${i % 2 === 0 ? 'cloud -> edge' : 'edge -> cloud'}  ${(b / 1024).toFixed(1).padStart(9)} KB`));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
