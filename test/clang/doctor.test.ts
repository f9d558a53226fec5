// `kafu doctor` reports problems with the command that fixes them (the full healthy run compiles and instruments a
// program, which the other tests already cover; here only the cheap paths).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkNode, doctor } from '../../src/cli/doctor.js';

test('doctor: Node version check', () => {
  assert.equal(checkNode('20.20.2').ok, true);
  assert.equal(checkNode('22.1.0').ok, true);
  const old = checkNode('18.19.0');
  assert.equal(old.ok, false);
  assert.match(old.fix!, /Node\.js 20/);
});

test('doctor: a broken WASI_SDK_PATH is a problem with a fix', async () => {
  const lines: string[] = [];
  const checks = await doctor((l) => lines.push(l), { WASI_SDK_PATH: '/nonexistent-wasi-sdk' });
  const tc = checks.find((c) => c.name.startsWith('C/C++ toolchain'))!;
  assert.equal(tc.ok, false);
  assert.match(tc.detail, /WASI_SDK_PATH/);
  assert.ok(lines.some((l) => l.includes('fix:') && l.includes('WASI_SDK_PATH')), lines.join('\n'));
  assert.equal(lines.at(-1), '1 problem found.');
});
