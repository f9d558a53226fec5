// npm run bench:migrate — downtime and snapshot size of a migration against heap size, with kafu singlenode
// (a real checkpoint to bytes and restore into a fresh instance at every hop). Prints a table.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../src/clang/index.js';
import { createLogger } from '../src/core/log.js';
import { singlenodeServe } from '../src/singlenode/singlenode.js';

const dir = mkdtempSync(join(tmpdir(), 'kafu-bench-migrate-'));
const hops = 10;
try {
  const wasm = join(dir, 'heap_hops.wasm');
  const code = await compile(['-O2', 'bench/programs/heap_hops.c', '-o', wasm], {
    lang: 'c',
    cwd: process.cwd(),
    instrument: true,
    log: () => {},
  });
  if (code !== 0) throw new Error('compile failed');
  console.log(`heap MB  migrations  snapshot MB (mean)  downtime ms (mean)  downtime ms (max)`);
  for (const mb of [1, 16, 64, 256]) {
    const config = join(dir, `kafu-config-${mb}.yaml`);
    writeFileSync(
      config,
      `name: bench\napp:\n  path: ${wasm}\n  args: ["${mb}", "${hops}"]\nnodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n  edge: { address: 127.0.0.1, port: 50052 }\n`,
    );
    const sizes: number[] = [];
    const r = await singlenodeServe(config, {
      log: createLogger(() => {}),
      stdout: () => {},
      onMigration: (_m, bytes) => sizes.push(bytes),
    });
    if (r.exitCode !== 0) throw new Error(`program exited with ${r.exitCode}`);
    const meanSize = sizes.reduce((a, b) => a + b, 0) / sizes.length / 2 ** 20;
    console.log(
      `${String(mb).padStart(7)}  ${String(r.migrations).padStart(10)}  ${meanSize.toFixed(1).padStart(18)}  ` +
        `${(r.downtimeMs / r.migrations).toFixed(2).padStart(18)}  ${r.maxDowntimeMs.toFixed(2).padStart(17)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
