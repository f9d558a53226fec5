// Wrong uses of wasi-nn and kafu_helper from a real C program get the API's error codes (and the program goes
// on); image_to_tensor reads through the program's mount and matches the helper's own computation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { decodeImage } from '../../src/node/image-decode.js';
import { imageToTensor } from '../../src/wasi/helper/image-tensor.js';
import { buildNn, runNn } from './harness.js';

/** A 5x4 RGBA PNG with varied pixels. */
function png(): Uint8Array {
  const p = new PNG({ width: 5, height: 4 });
  for (let i = 0; i < 5 * 4; i++) p.data.set([(i * 53) % 256, (i * 97) % 256, (i * 151) % 256, 255], i * 4);
  return PNG.sync.write(p);
}

// Both ways the node runs ONNX Runtime: on the program's thread (onnxruntime-node's native session), and in the
// helper thread (the fallback where the package's binding differs) give the same codes.
for (const thread of ['direct', 'helper'] as const)
test(`wrong uses of wasi-nn and kafu_helper get error codes, never a trap (ONNX Runtime: ${thread})`, { timeout: 120_000 }, async () => {
  const wasm = await buildNn('errors.c');
  const img = png();
  if (thread === 'helper') process.env['KAFU_NN_THREAD'] = 'helper';
  const r = await runNn(wasm, { args: [], files: { 'img.png': img } }).finally(() => delete process.env['KAFU_NN_THREAD']);
  assert.equal(r.exitCode, 0, r.stdout);
  const [codes, floats] = r.stdout.split('written 72\n') as [string, string];
  assert.equal(codes, [
    'load junk: 1', 'load openvino: 2', 'load tpu: 6', 'load 0 builders: 1', 'load bad pointer: 1',
    'load_by_name unknown: 8', 'init unknown graph: 1', 'compute unknown context: 1',
    'load vad: 0', 'init: 0', 'init bad pointer: 1',
    'set_input unknown context: 1', 'set_input index 5: 1', 'set_input wrong type: 1', 'set_input wrong size: 1',
    'set_input wrong shape: 1', 'set_input two rates for a scalar: 1', 'set_input unknown type: 1',
    'set_input bad tensor pointer: 1', 'set_input bad data pointer: 1', 'compute without inputs: 1',
    'get_output before compute: 1', 'set_input 0: 0', 'set_input 1: 0', 'set_input 2: 0', 'compute: 0',
    'get_output too small: 7', 'get_output index 5: 1', 'get_output bad buffer: 1', 'get_output: 0', 'written 4',
    'image missing: 8', 'image not an image: 2', 'image outside the mount: 1', 'image bad output: 1',
    'image zero size: 1', 'image: 0', '',
  ].join('\n'));
  const bytes = imageToTensor(decodeImage(img), 3, 2);
  const dv = new DataView(bytes.buffer);
  const words = Array.from({ length: 18 }, (_, i) => dv.getUint32(i * 4, true).toString(16).padStart(8, '0'));
  assert.equal(floats.replaceAll('\n', ' ').trim(), words.join(' '));
});
