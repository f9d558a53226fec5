// buildWasm: compiled once, then served from the content-addressed cache, also to concurrent callers.
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { test } from 'node:test';
import { customSectionNames } from '../../src/clang/index.js';
import { buildCacheDir, buildWasm } from './build.js';

test('buildWasm caches by content and serves concurrent callers one module', async () => {
  const spec = { sources: ['test/clang/programs/hello.c'], args: ['-O1'] };
  const [a, b] = await Promise.all([buildWasm(spec), buildWasm(spec)]);
  assert.equal(a, b);
  assert.ok(a.startsWith(buildCacheDir));
  assert.match(basename(a), /^[0-9a-f]{64}\.wasm$/);
  const wasm = new Uint8Array(await readFile(a));
  assert.ok(customSectionNames(wasm).includes('kafu.meta'), 'instrumented by default');

  const t0 = Date.now();
  const again = await buildWasm(spec);
  assert.equal(again, a);
  assert.ok(Date.now() - t0 < 1000, 'a cache hit does not compile');
  assert.ok((await stat(a)).size > 0);

  const plain = await buildWasm({ ...spec, instrument: false });
  assert.notEqual(plain, a, 'the key covers instrumentation');
  assert.ok(!customSectionNames(new Uint8Array(await readFile(plain))).includes('kafu.meta'));

  await assert.rejects(buildWasm({ sources: ['test/clang/programs/bad.c'] }), /bad\.c:4:12: error/);
});
