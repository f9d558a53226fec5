// app.nn in kafu-config.yaml: model paths resolved against the config's folder, nodes checked against the
// config's nodes, mistakes named with file, line and field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../src/core/errors.js';
import { parseConfigText } from '../../src/node/config-file.js';

const FILE = '/srv/app/kafu-config.yaml';
const config = (nn: string) =>
  `name: x\napp:\n  path: ./m.wasm\n  nn:\n${nn}nodes:\n  cloud: { address: a, port: 1 }\n  edge: { address: b, port: 2 }\n`;

test('app.nn: models per node, paths resolved, gpu_fallback', () => {
  const ok = parseConfigText(config('    models:\n      vad: { path: models/vad.onnx }\n      big: { path: /m/big.onnx, nodes: [cloud] }\n    gpu_fallback: cpu\n'), FILE);
  assert.deepEqual(ok.nn, {
    models: { vad: { path: '/srv/app/models/vad.onnx' }, big: { path: '/m/big.onnx', nodes: ['cloud'] } },
    gpu_fallback: 'cpu',
  });
  assert.deepEqual(parseConfigText(config('    {}\n'), FILE).nn, { models: {}, gpu_fallback: 'error' });
});

test('app.nn mistakes are named with their line', () => {
  const error = (nn: string): string => {
    try {
      parseConfigText(config(nn), FILE);
    } catch (e) {
      assert.ok(e instanceof UserError);
      return e.message;
    }
    return assert.fail('accepted');
  };
  assert.match(error('    models:\n      big: { path: ./b.onnx, nodes: [fog] }\n'), /kafu-config\.yaml:6: app\.nn\.models\.big\.nodes\.0: fog is not a node of this config/);
  assert.match(error('    models:\n      big: { nodes: [edge] }\n'), /app\.nn\.models\.big\.path: path is required/);
  assert.match(error('    gpu_fallback: maybe\n'), /kafu-config\.yaml:5: app\.nn\.gpu_fallback: gpu_fallback must be error or cpu/);
  assert.match(error('    modles: {}\n'), /app\.nn\.modles: unknown key/);
});
