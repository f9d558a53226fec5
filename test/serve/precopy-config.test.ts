// cluster.migration.precopy and its timings: a mistake is one line naming the field and what it may be; `auto` picks
// the one KAFU_DEST node other than this one, and pre-copy is off where it cannot help (src/serve/precopy.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../src/core/errors.js';
import type { KafuMetadata } from '../../src/core/metadata.js';
import { parseConfigText } from '../../src/node/config-file.js';
import { precopyTarget } from '../../src/serve/precopy.js';

const BASE = 'name: x\napp:\n  path: ./m.wasm\nnodes:\n  cloud: { address: 127.0.0.1, port: 1 }\n  edge: { address: 127.0.0.1, port: 2 }\n  fog: { address: 127.0.0.1, port: 3 }\n';
const withMigration = (m: string) => `${BASE}cluster:\n  migration: { ${m} }\n`;

function configError(text: string): string {
  try {
    parseConfigText(text, 'conf/kafu-config.yaml');
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('no error');
}

test('cluster.migration.precopy: auto, off or a node id of the config; its timings whole numbers in range', () => {
  assert.match(configError(withMigration('precopy: moon')), /cluster\.migration\.precopy: moon is not a node of this config \(precopy: auto, off or a node id\)$/);
  assert.match(configError(withMigration('precopy: 3')), /cluster\.migration\.precopy: precopy must be auto, off or a node id$/);
  assert.match(configError(withMigration('precopy_interval_ms: 1')), /cluster\.migration\.precopy_interval_ms: precopy_interval_ms must be a whole number from 10 to/);
  assert.match(configError(withMigration('precopy_after_ms: -1')), /cluster\.migration\.precopy_after_ms: precopy_after_ms must be a whole number from 0 to/);
  const defaults = parseConfigText(BASE, 'conf/kafu-config.yaml').config.cluster.migration;
  assert.deepEqual([defaults.precopy, defaults.precopy_after_ms, defaults.precopy_interval_ms], ['auto', 100, 250]);
});

test('pre-copy goes to the one KAFU_DEST node other than this one, the node named, or nowhere', () => {
  const meta = (...nodes: string[]) => ({ points: nodes.map((node, id) => ({ id, fn: `f${id}`, node })) }) as unknown as KafuMetadata;
  const config = (m = '') => parseConfigText(m ? withMigration(m) : BASE, 'conf/kafu-config.yaml').config;
  assert.equal(precopyTarget(config(), meta('edge'), 'cloud', false), 'edge');
  assert.equal(precopyTarget(config(), meta('edge', 'edge'), 'cloud', false), 'edge');
  assert.equal(precopyTarget(config(), meta('edge'), 'edge', false), undefined, 'the destination itself');
  assert.equal(precopyTarget(config(), meta('edge', 'fog'), 'cloud', false), undefined, 'two candidates: none guessed');
  assert.equal(precopyTarget(config('precopy: fog'), meta('edge', 'fog'), 'cloud', false), 'fog');
  assert.equal(precopyTarget(config('precopy: off'), meta('edge'), 'cloud', false), undefined);
  assert.equal(precopyTarget(config(), meta('edge'), 'cloud', true), undefined, 'forced migrations');
  assert.equal(precopyTarget(config('memory_migration: full'), meta('edge'), 'cloud', false), undefined, 'no deltas');
});
