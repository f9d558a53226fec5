// Browser nodes in kafu-config.yaml: what a valid one gives, and each mistake named with its line and the fix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../src/core/errors.js';
import { parseConfigText } from '../../src/node/config-file.js';

const FILE = '/srv/app/kafu-config.yaml';

function configError(text: string): string {
  try {
    parseConfigText(text, FILE);
  } catch (e) {
    assert.ok(e instanceof UserError);
    return e.message;
  }
  return assert.fail('accepted');
}

const config = (nodes: string, app = '') => `name: x\napp:\n  path: ./m.wasm\n${app}nodes:\n${nodes}`;

test('a browser node: its page port and how long a hop waits for a tab (default 20 s)', () => {
  const ok = parseConfigText(config('  cloud: { address: 127.0.0.1, port: 1 }\n  phone: { address: 127.0.0.1, port: 2, browser: { port: 8080 } }\n'), FILE);
  assert.deepEqual(ok.config.nodes[1], { id: 'phone', address: '127.0.0.1', port: 2, browser: { port: 8080, tab_wait_s: 20 } });
  assert.equal(ok.config.nodes[0]!.browser, undefined);
});

test('browser-node mistakes are named with their line', () => {
  const cloud = '  cloud: { address: 127.0.0.1, port: 1 }\n';
  assert.match(
    configError(config(`  phone: { address: 127.0.0.1, port: 2, browser: { port: 8080 } }\n${cloud}`)),
    /kafu-config\.yaml:5: nodes\.phone\.browser: the first node \(phone\) cannot be a browser node: list another node first/,
  );
  assert.match(
    configError(config(`${cloud}  phone: { address: 127.0.0.1, port: 2, browser: { port: 1 } }\n`)),
    /nodes\.phone\.browser\.port: 127\.0\.0\.1:1 is also node cloud's: give each node its own port/,
  );
  assert.match(configError(config(`${cloud}  phone: { address: 127.0.0.1, port: 2, browser: { port: 3, tab_wait_s: 60 } }\n`)), /nodes\.phone\.browser\.tab_wait_s/);
  assert.match(configError(config(`${cloud}  phone: { address: 127.0.0.1, port: 2, browser: { prot: 3 } }\n`)), /nodes\.phone\.browser\.prot: unknown key\(s\): prot/);
  assert.match(
    configError(config(`${cloud}  phone: { address: 127.0.0.1, port: 2, browser: { port: 3 } }\n`, '  listen:\n    - { node: phone, address: 0.0.0.0, port: 9 }\n')),
    /app\.listen\.0\.node: phone is a browser node, which cannot listen/,
  );
});
