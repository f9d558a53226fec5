import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envLogLevel } from './arg-parsers.js';

test('the log level from KAFU_LOG, else from RUST_LOG as the original Kafu spells it', () => {
  assert.equal(envLogLevel({}), 'info');
  assert.equal(envLogLevel({ KAFU_LOG: 'warn', RUST_LOG: 'debug' }), 'warn');
  assert.equal(envLogLevel({ RUST_LOG: 'DEBUG' }), 'debug');
  assert.equal(envLogLevel({ RUST_LOG: 'trace' }), 'debug');
  assert.equal(envLogLevel({ RUST_LOG: 'h2=warn,kafu_serve=debug' }), 'debug');
  assert.equal(envLogLevel({ RUST_LOG: 'tower=debug' }), 'info', 'directives for other crates do not count');
  assert.equal(envLogLevel({ RUST_LOG: 'nonsense' }), 'info');
});
