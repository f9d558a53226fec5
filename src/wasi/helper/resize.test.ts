// The triangle-filter resize against values worked out by hand from the `image` crate's algorithm (sample.rs:
// support 1 scaled by the ratio when shrinking, weights 1−|x| normalised per output sample, rounding half away
// from zero), and the ImageNet normalisation of image_to_tensor.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageToTensor } from './image-tensor.js';
import { resizeTriangle } from './resize.js';

const grey = (width: number, height: number, ...v: number[]) => ({ width, height, channels: 1, data: Uint8Array.from(v) });

test('shrinking 4→2: each output averages three inputs with weights 3:3:1', () => {
  // out0: centre 1.0, support 2 → inputs 0,1,2 at distances .5,.5,1.5 → weights .75,.75,.25 (/1.75).
  // 100·3/7 + 200·1/7 = 71.43 → 71; out1: 100·1/7 + (200+255)·3/7 = 209.29 → 209.
  assert.deepEqual([...resizeTriangle(grey(4, 1, 0, 100, 200, 255), 2, 1).data], [71, 209]);
  assert.deepEqual([...resizeTriangle(grey(1, 4, 0, 100, 200, 255), 1, 2).data], [71, 209]);
});

test('enlarging 2→4: bilinear between neighbours, edges clamped', () => {
  // Centres .25 .75 1.25 1.75 in input space (minus .5): weights [1,0] [.75,.25] [.25,.75] [0,1].
  assert.deepEqual([...resizeTriangle(grey(2, 1, 0, 255), 4, 1).data], [0, 64, 191, 255]);
});

test('both passes, several channels kept apart, same size copied', () => {
  const rgb = { width: 2, height: 2, channels: 3, data: Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]) };
  const one = resizeTriangle(rgb, 1, 1);
  // 1×1 from 2×2: all four pixels weigh the same.
  assert.deepEqual([...one.data], [128, 128, 128]);
  assert.deepEqual([...resizeTriangle(rgb, 2, 2).data], [...rgb.data]);
});

test('image_to_tensor: planar RGB, (v/255 − mean)/std in f32', () => {
  const t = new DataView(imageToTensor({ width: 1, height: 1, channels: 3, data: Uint8Array.from([255, 0, 128]) }, 1, 1).buffer);
  const f = Math.fround;
  const expect = [f(f(1 - f(0.485)) / f(0.229)), f(f(0 - f(0.456)) / f(0.224)), f(f(f(128 / 255) - f(0.406)) / f(0.225))];
  assert.deepEqual([0, 1, 2].map((i) => t.getFloat32(i * 4, true)), expect);
  // Grey is repeated into R, G and B.
  const g = new DataView(imageToTensor(grey(1, 1, 7), 1, 1).buffer);
  assert.equal(g.getFloat32(0, true), f(f(f(7 / 255) - f(0.485)) / f(0.229)));
});
