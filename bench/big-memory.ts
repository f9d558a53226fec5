// npm run bench:memory — migrating programs with memories past 2 GiB, up to 3 GiB (wasm32's limit is 4 GiB): a round
// trip cloud → edge → cloud of bench/programs/big_memory.c, under `kafu singlenode` (a real checkpoint to bytes and
// restore at every hop) and under `kafu serve --all` (two node processes over mutual TLS). Each run's output must
// equal that of the same program run without migration (`kafu run`). Prints a table. Each run is a process of its own
// (so that one's memory is gone before the next starts); the largest needs about 13 GB of RAM.
// KAFU_BENCH_MIB=2112,3072 (the default) picks the sizes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../src/clang/index.js';
import { createLogger } from '../src/core/log.js';
import { singlenodeServe } from '../src/singlenode/singlenode.js';

const KAFU = join(process.cwd(), 'bin', 'kafu.js');
const row = (mib: number, runner: string, migrations: string, mb: string, downtime: string, s: number, same: boolean) =>
  `${String(mib).padStart(10)}  ${runner.padEnd(14)}  ${migrations.padStart(10)}  ${mb.padStart(19)}  ` +
  `${downtime.padStart(15)}  ${s.toFixed(1).padStart(6)}  ${same ? 'same' : 'DIFFERENT'}`;

if (process.argv[2] === '--singlenode') {
  // One singlenode run in this child process: prints its row.
  const [config, mib, plain] = [process.argv[3]!, Number(process.argv[4]), process.argv[5]!];
  const t = performance.now();
  const chunks: Uint8Array[] = [];
  let sent = 0;
  const r = await singlenodeServe(config, {
    log: createLogger(() => {}),
    stdout: (b) => void chunks.push(Buffer.from(b)),
    onMigration: (_m, bytes) => void (sent += bytes),
  });
  if (r.exitCode !== 0) throw new Error(`singlenode: program exited with ${r.exitCode}`);
  const out = Buffer.concat(chunks).toString('utf8');
  console.log(row(mib, 'singlenode', String(r.migrations), (sent / 1e6).toFixed(1), r.maxDowntimeMs.toFixed(0),
    (performance.now() - t) / 1000, out === plain));
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'kafu-bench-memory-'));
const sizes = (process.env.KAFU_BENCH_MIB ?? '2112,3072').split(',').map(Number);
try {
  const wasm = join(dir, 'big_memory.wasm');
  const code = await compile(['-O2', '-Wl,--max-memory=4294967296', 'bench/programs/big_memory.c', '-o', wasm], {
    lang: 'c',
    cwd: process.cwd(),
    instrument: true,
    log: () => {},
  });
  if (code !== 0) throw new Error('compile failed');
  console.log('bench/programs/big_memory.c: one round trip cloud -> edge -> cloud; output compared with kafu run');
  console.log('memory MiB  runner          migrations  MB sent (both hops)  max downtime ms  wall s  output');
  for (const mib of sizes) {
    const config = join(dir, `kafu-config-${mib}.yaml`);
    writeFileSync(
      config,
      `name: bench\napp:\n  path: ${wasm}\n  args: ["${mib}"]\n` +
        `nodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n  edge: { address: 127.0.0.1, port: 50052 }\n`,
    );
    const plain = execFileSync(process.execPath, [KAFU, 'run', wasm, String(mib)], { encoding: 'utf8' });
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--singlenode', config, String(mib), plain], { stdio: 'inherit' });

    const t = performance.now();
    const serve = spawnSync(process.execPath, [KAFU, 'serve', '--all', config], { encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 26 });
    if (serve.status !== 0) throw new Error(`kafu serve --all exited with ${serve.status}:\n${serve.stderr}`);
    // "Program moved to edge: 99.6 MB sent (…), downtime 19617.4 ms", one line per hop.
    const hops = [...serve.stderr.matchAll(/Program moved to \S+: ([\d.]+) MB sent .*?downtime ([\d.]+) ms/g)];
    console.log(row(mib, 'serve --all', String(hops.length), hops.reduce((n, h) => n + Number(h[1]), 0).toFixed(1),
      Math.max(...hops.map((h) => Number(h[2]))).toFixed(0), (performance.now() - t) / 1000, serve.stdout === plain));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
