// npm run bench:migrate — downtime and transfer size of a migration against heap size, with kafu singlenode (a
// real checkpoint to bytes and restore at every hop, each node's parked instance as with kafu serve, no network),
// once with whole uncompressed snapshots (memory_migration: full, memory_compression: false) and once with the
// default, deltas with compression (delta, true). A tenth of the heap's pages change before each hop. Prints
// p50/p90/max downtime of the first hop and of the later ones, and bytes sent. `-- --quick`: small sizes (CI).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/core/log.js';
import { singlenodeServe } from '../src/singlenode/singlenode.js';
import { buildWasm } from '../test/support/build.js';
import { fmt, percentiles } from './stats.js';

const dir = mkdtempSync(join(tmpdir(), 'kafu-bench-migrate-'));
const quick = process.argv.includes('--quick');
const hops = quick ? 3 : 15;
const MODES = [
  { name: 'full', migration: { memory_migration: 'full', memory_compression: false } },
  { name: 'delta+compression', migration: { memory_migration: 'delta', memory_compression: true } },
];
try {
  const wasm = await buildWasm({ sources: ['bench/programs/heap_hops.c'], args: ['-O2'] });
  console.log(`bench/programs/heap_hops.c in kafu singlenode, ${hops} round trips, 10 % of the pages changed per hop`);
  console.log('heap MB  mode               first ms  first MB   later p50    p90     max   later KB (mean)');
  for (const mb of quick ? [1, 4] : [1, 16, 64, 256]) {
    for (const { name, migration } of MODES) {
      const config = join(dir, `kafu-config-${mb}.yaml`);
      writeFileSync(
        config,
        `name: bench\napp:\n  path: ${wasm}\n  args: ["${mb}", "${hops}", "10"]\n` +
          `nodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n  edge: { address: 127.0.0.1, port: 50052 }\n` +
          `cluster:\n  migration: ${JSON.stringify(migration)}\n`,
      );
      const sizes: number[] = [];
      const downtimes: number[] = [];
      const log = createLogger((line) => {
        const m = /resumed on \S+, downtime ([\d.]+) ms/.exec(line);
        if (m) downtimes.push(Number(m[1]));
      }, 'DEBUG');
      const r = await singlenodeServe(config, { log, stdout: () => {}, onMigration: (_m, bytes) => sizes.push(bytes) });
      if (r.exitCode !== 0) throw new Error(`program exited with ${r.exitCode}`);
      const [first = 0, ...later] = sizes;
      const [firstMs = NaN, ...laterMs] = downtimes;
      const d = percentiles(laterMs);
      console.log(
        `${String(mb).padStart(7)}  ${name.padEnd(17)}  ${fmt(firstMs, 8)}  ${(first / 2 ** 20).toFixed(2).padStart(8)}  ` +
          `${fmt(d.p50, 10)} ${fmt(d.p90, 6)} ${fmt(d.max, 7)}  ${(later.reduce((a, b) => a + b, 0) / later.length / 1024).toFixed(1).padStart(16)}`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
