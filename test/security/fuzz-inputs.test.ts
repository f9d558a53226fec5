// Fuzzing the inputs a user or a server hands the runtime: configs (YAML text and values) and wasm modules (bytes
// and the kafu.meta contract), test/support/fuzz-values.ts. Seeded and time-bounded (KAFU_FUZZ_SECONDS); every case
// must end in a clean refusal (a UserError, which the CLI prints as one line) or in a working program — never
// another exception, a hang or a crash. `npm run fuzz` runs the same for longer.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { buildWasm } from '../support/build.js';
import { fuzzConfigs, fuzzModules } from '../support/fuzz-values.js';

const SECONDS = Number(process.env.KAFU_FUZZ_SECONDS ?? 3);

test('config fuzz: mutated YAML text and hostile values are accepted or refused with a UserError', async (t) => {
  const stats = await fuzzConfigs(1, SECONDS);
  t.diagnostic(`config fuzz: ${JSON.stringify(stats)}`);
  assert.ok(stats.refused > 0, JSON.stringify(stats));
});

test('module fuzz: mutated bytes and a hostile kafu.meta are refused with a UserError, or run', async (t) => {
  const wasm = new Uint8Array(await readFile(await buildWasm({ sources: ['examples/basic/main.c'], args: ['-O1'] })));
  const stats = await fuzzModules(2, SECONDS * 2, wasm);
  t.diagnostic(`module fuzz: ${JSON.stringify(stats)}`);
  assert.ok(stats.refused > 0, JSON.stringify(stats));
});
