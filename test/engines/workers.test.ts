// A node's program worker on each engine: told to start the program the moment it exists (the first node does so
// when every other node is already up), it must run it. Deno 2 drops a message that reaches a worker before the
// worker's module has attached its listener, which left the first node waiting forever; the worker now says when
// it listens (worker-messages.ts, 'ready') and the main thread holds messages until then.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildWasm, repoRoot } from '../support/build.js';
import { ENGINES, launchOf, missingEngines, scriptOn } from '../support/engines.js';

describe('program worker: a start sent at once is never lost', () => {
  for (const engine of ENGINES) {
    const missing = missingEngines([engine]);
    test(`on ${engine}`, { skip: missing.length > 0 ? missing.join('') : false }, async () => {
      const wasm = await buildWasm({ sources: ['examples/basic/main.c'], args: ['-O1'] });
      const { command, env } = scriptOn(engine, join(repoRoot, 'dist', 'test', 'engines', 'early-start.js'));
      // Several times: without the handshake Deno lost the start in about two runs of three.
      for (let i = 0; i < 4; i++) {
        const r = spawnSync(command[0]!, [...command.slice(1), wasm], { env, encoding: 'utf8', timeout: 60_000 });
        assert.equal(r.stdout.trim(), 'suspended for edge', `run ${i + 1}: ${r.stdout}${r.stderr}`);
      }
    });
  }
});

// A trapping program's backtrace names its C functions on every engine: V8 writes wasm frames into the stack text,
// JavaScriptCore only into its structured call sites (src/core/trap.ts reads both).
describe('a trap is reported with the program\'s function names', () => {
  for (const engine of ENGINES) {
    const missing = missingEngines([engine]);
    test(`on ${engine}`, { skip: missing.length > 0 ? missing.join('') : false }, async () => {
      const wasm = await buildWasm({ sources: ['test/programs/core/trap.c'] });
      const { command, env } = launchOf(engine);
      const r = spawnSync(command[0]!, [...command.slice(1), 'run', wasm], { env, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 134, r.stderr);
      assert.equal(r.stdout, 'on edge\n');
      const frames = [...r.stderr.matchAll(/^ {4}at (\S+)/gm)].map((m) => m[1]);
      assert.deepEqual(frames.slice(0, 3), ['crash', 'f', 'f'], r.stderr);
    });
  }
});
