// A recursion that fits the engine stack in a plain run fits it when resumed after a migration: each resumed level
// takes one engine frame, as in the plain run (src/instrument/resume-calls.ts). deep_resume.c recurses 9 000 levels
// and makes a system call at the bottom; built with --kafu-syscall-points and migrated after every WASI call, all
// 9 000 levels are unwound and resumed. Both runs share this test process's main thread (its engine stack is ~1 MiB):
// the plain run fits about 13 000 levels; resumed, levels took two frames each before (at most ~6 500 fitted) and now
// take one (~11 000 fit). With "pointer" it recurses through a function pointer: its resume copies call through a
// second table that holds the resume copies (src/instrument/resume-calls.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { observable, runForced } from '../support/forced.js';

const T = { timeout: 240_000 };

for (const [how, opt] of [['direct', '-O1'], ['direct', '-O2'], ['pointer', '-O2']]) {
  test(`deep_resume.c ${opt}, ${how} calls: 9 000 levels resumed after forced migrations give the plain run's output`, T, async () => {
    const r = await runForced(['test/programs/probe/deep_resume.c'], {
      every: 1,
      nodes: ['cloud', 'edge'],
      args: ['9000', how],
      cflags: [opt, '-Wl,-z,stack-size=8388608'],
    });
    assert.equal(r.plain.exitCode, 0, r.plain.stderr);
    assert.match(r.plain.stdout, /^bottom at 0, acc=\d+\ndown: \d+\n$/);
    assert.deepEqual(observable(r.migrating), observable(r.plain), r.migrating.logs.slice(-5).join('\n'));
    assert.ok(r.migrating.migrations >= 3, `${r.migrating.migrations} migrations`);
  });
}
