#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with node's test runner. Node 20 does not expand globs
// itself, and pointing it at a folder would also run helpers that merely live under a test/ folder.
import { spawn } from 'node:child_process';
import { startTestRun, testFiles } from './test-run.mjs';

const files = testFiles(process.argv.slice(2));
if (files.length === 0) {
  console.error('run-tests: no test files found under dist/ (did `tsc` run?)');
  process.exit(1);
}
const run = await startTestRun();
// Three files at a time on two cores: most test time is waiting (nodes starting, heartbeats timing out, programs
// napping), not computing; KAFU_TEST_CONCURRENCY changes it.
const concurrency = process.env.KAFU_TEST_CONCURRENCY ?? '3';
const status = await new Promise((resolve) => {
  spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit', env: run.env }).on('close', (code) => resolve(code ?? 1));
});
await run.finish();
process.exit(status);
