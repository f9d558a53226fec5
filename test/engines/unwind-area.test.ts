// The unwind area is sized from the wasm frames on the stack (src/core/stack-frames.ts). JavaScriptCore (Bun) writes
// no wasm frames into Error().stack, so the runtime used to fall back to a 16 MiB area there: 20 MiB more memory in
// every snapshot and instance, which made hops involving Bun several times slower. Its call sites name the frames,
// and the area is now as small on every engine.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildWasm } from '../support/build.js';
import { ENGINES, launchOf, missingEngines } from '../support/engines.js';

describe('unwind area sized from the live frames on every engine', () => {
  for (const engine of ENGINES) {
    const missing = missingEngines([engine]);
    test(`on ${engine}: a hop of examples/basic carries about 1 MiB of memory, not 20`, { skip: missing.length > 0 ? missing.join('') : false }, async () => {
      const wasm = await buildWasm({ sources: ['examples/basic/main.c'], args: ['-O1'] });
      const dir = await mkdtemp(join(tmpdir(), 'kafu-unwind-'));
      try {
        const config = join(dir, 'kafu-config.yaml');
        await writeFile(config, `name: u\napp:\n  path: ${JSON.stringify(wasm)}\nnodes:\n  cloud: { address: 127.0.0.1, port: 1 }\n  edge: { address: 127.0.0.1, port: 2 }\n`);
        const { command, env } = launchOf(engine);
        const r = spawnSync(command[0]!, [...command.slice(1), 'singlenode', 'serve', '--log-level', 'debug', config], { env, encoding: 'utf8', timeout: 60_000 });
        assert.equal(r.status, 0, r.stderr);
        const sizes = [...r.stderr.matchAll(/transfer \S+: \d+ of (\d+) bytes/g)].map((m) => Number(m[1]));
        assert.equal(sizes.length, 2, r.stderr);
        for (const s of sizes) assert.ok(s <= 2 * 2 ** 20, `memory of ${s} bytes in a snapshot`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
