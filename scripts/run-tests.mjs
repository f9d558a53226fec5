#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with node's test runner, through its run() API: Node 20's
// `node --test` does not expand globs itself (and pointing it at a folder would also run helpers that merely live
// under a test/ folder), and it sorts the files it is given, where run() keeps the order: the longest start first.
import { finished } from 'node:stream/promises';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';
import { startTestRun, testFiles } from './test-run.mjs';

const files = testFiles(process.argv.slice(2));
if (files.length === 0) {
  console.error('run-tests: no test files found under dist/ (did `tsc` run?)');
  process.exit(1);
}
const testRun = await startTestRun();
// (run() starts each file's process with this process's environment.)
Object.assign(process.env, testRun.env);
// Three files at a time on two cores: most test time is waiting (nodes starting, heartbeats timing out, programs
// napping), not computing; KAFU_TEST_CONCURRENCY changes it.
const concurrency = Number(process.env.KAFU_TEST_CONCURRENCY ?? '3');
let failed = false;
const stream = run({ files, concurrency });
// (A failing `todo` test is not a failure, as with node --test.)
stream.on('test:fail', (data) => {
  if (data.todo === undefined) failed = true;
});
// The reporter `node --test` picks: spec on a terminal, TAP otherwise (CI logs).
// Waits for the reporter's own end, not the run's: its last lines (the summary) come after the run's end, and
// process.exit() below would cut them off.
const report = stream.compose(process.stdout.isTTY ? spec : tap);
report.pipe(process.stdout);
await finished(report);
await testRun.finish();
process.exit(failed ? 1 : 0);
