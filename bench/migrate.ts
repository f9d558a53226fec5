// npm run bench:migrate — downtime and transfer size of a migration against heap size, with kafu singlenode
// (a real checkpoint to bytes and restore into a fresh instance at every hop), once with whole uncompressed
// snapshots (memory_migration: full, memory_compression: false) and once with the default, deltas against the
// previous hop with compression (memory_migration: delta, memory_compression: true). Prints a table.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../src/clang/index.js';
import { createLogger } from '../src/core/log.js';
import { singlenodeServe } from '../src/singlenode/singlenode.js';

const dir = mkdtempSync(join(tmpdir(), 'kafu-bench-migrate-'));
const hops = 10;
const MODES = [
  { name: 'full', migration: { memory_migration: 'full', memory_compression: false } },
  { name: 'delta+compression', migration: { memory_migration: 'delta', memory_compression: true } },
];
try {
  const wasm = join(dir, 'heap_hops.wasm');
  const code = await compile(['-O2', 'bench/programs/heap_hops.c', '-o', wasm], {
    lang: 'c',
    cwd: process.cwd(),
    instrument: true,
    log: () => {},
  });
  if (code !== 0) throw new Error('compile failed');
  console.log(`bench/programs/heap_hops.c, ${hops} round trips; mode: cluster.migration of the config`);
  console.log('first MB: the first transfer (no baseline yet); later MB: the others.');
  console.log(
    `heap MB  mode               migrations  first MB  later MB (mean)  downtime ms (mean)  downtime ms (max)`,
  );
  for (const mb of [1, 16, 64, 256]) {
    for (const { name, migration } of MODES) {
      const config = join(dir, `kafu-config-${mb}.yaml`);
      writeFileSync(
        config,
        `name: bench\napp:\n  path: ${wasm}\n  args: ["${mb}", "${hops}"]\n` +
          `nodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n  edge: { address: 127.0.0.1, port: 50052 }\n` +
          `cluster:\n  migration: ${JSON.stringify(migration)}\n`,
      );
      const sizes: number[] = [];
      const r = await singlenodeServe(config, {
        log: createLogger(() => {}),
        stdout: () => {},
        onMigration: (_m, bytes) => sizes.push(bytes),
      });
      if (r.exitCode !== 0) throw new Error(`program exited with ${r.exitCode}`);
      const [first = 0, ...later] = sizes;
      const mean = later.reduce((a, b) => a + b, 0) / later.length;
      console.log(
        `${String(mb).padStart(7)}  ${name.padEnd(17)}  ${String(r.migrations).padStart(10)}  ` +
          `${(first / 2 ** 20).toFixed(2).padStart(8)}  ${(mean / 2 ** 20).toFixed(3).padStart(15)}  ` +
          `${(r.downtimeMs / r.migrations).toFixed(2).padStart(18)}  ` +
          `${r.maxDowntimeMs.toFixed(2).padStart(17)}`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
