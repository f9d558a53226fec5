// Damaged `.kafusnap` files given to `kafu serve --resume`: a flipped bit is a checksum mismatch, and a file edited
// with a correct checksum (mutations from test/support/fuzz.ts) is refused by the format checks. Each is a clear
// error naming the file, exit code 1, no stack trace, before the node starts anything.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { memoryImage, PAGE_SIZE } from '../../src/core/snapshot.js';
import { encodeTransfer } from '../../src/core/transfer.js';
import { concat } from '../../src/core/wasm-sections.js';
import { buildWasm } from '../support/build.js';
import { clusterConfig, spawnKafu } from '../support/cluster.js';
import { Rng, fuzzHeader, mutate } from '../support/fuzz.js';

test('fuzz: damaged .kafusnap files given to --resume: a clear error, exit 1, no stack trace (seed 5)', async () => {
  const comeback = await buildWasm({ sources: ['test/programs/serve/comeback.c'], args: ['-O1'] });
  const sha = createHash('sha256').update(await readFile(comeback)).digest('hex');
  const dir = await mkdtemp(join(tmpdir(), 'kafu-kafusnap-'));
  try {
    const configPath = await clusterConfig(dir, comeback, { nodes: ['cloud', 'edge'] });
    const memory = new Uint8Array(4 * PAGE_SIZE).map((_, i) => i % 251);
    const whole = concat(encodeTransfer({ header: fuzzHeader(sha, 'edge'), memory: memoryImage(memory), blobs: [] }, { compression: true }).chunks);
    const flipped = whole.slice();
    flipped[16 + 1000 + 2 * PAGE_SIZE] ^= 0x10; // one bit in a memory page
    const rng = new Rng(5);
    const cases: [string, Uint8Array, RegExp][] = [['flipped', flipped, /checksum mismatch: the file is damaged/]];
    for (let i = 0; i < 4; i++) {
      const m = mutate(rng, [{ bytes: whole }]);
      if (m.kind !== 'bitflip-sealed') cases.push([m.kind, m.bytes, /: (not a valid kafu snapshot|checksum mismatch)/]);
    }
    for (const [name, bytes, expected] of cases) {
      const file = join(dir, `${name}.kafusnap`);
      await writeFile(file, bytes);
      const r = await spawnKafu(['serve', '--node-id', 'cloud', '--resume', file, configPath], dir).done;
      assert.equal(r.exitCode, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`--resume: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`), name);
      assert.match(r.stderr, expected, `${name}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${name}: a stack trace`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
