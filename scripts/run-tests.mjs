#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with node's test runner. Node 20 does not expand globs
// itself, and pointing it at a folder would also run helpers that merely live under a test/ folder.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.test.js') ? [join(dir, e.name)] : [],
  );
}

const filters = process.argv.slice(2);
const files = find('dist').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (files.length === 0) {
  console.error('run-tests: no test files found under dist/ (did `tsc` run?)');
  process.exit(1);
}
// kafu clang's build cache: one of this run's own (builds shared between test files hit it), never the user's.
const cache = mkdtempSync(join(tmpdir(), 'kafu-test-cache-'));
const env = { ...process.env, KAFU_CACHE_DIR: process.env.KAFU_CACHE_DIR ?? cache };
// Three files at a time on two cores: most test time is waiting (nodes starting, heartbeats timing out, programs
// napping), not computing; KAFU_TEST_CONCURRENCY changes it.
const concurrency = process.env.KAFU_TEST_CONCURRENCY ?? '3';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit', env });
rmSync(cache, { recursive: true, force: true });
process.exit(r.status ?? 1);
