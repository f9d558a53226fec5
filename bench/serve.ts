// npm run bench:serve — migration downtime and bytes sent between two `kafu serve` processes on loopback (gRPC,
// worker threads, real snapshots), against heap size, with whole uncompressed snapshots and with the default
// (deltas against the previous hop, compressed). Downtime is what the nodes log: from the program stopping on one
// node to it running on the other. Nodes talk mutual TLS (certificates from `kafu certs`' code), as in production;
// the last two modes run over plaintext, to show what TLS costs. Prints a table.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeClusterCerts } from '../src/certs/files.js';
import { compile } from '../src/clang/index.js';
import { KAFU_BIN } from '../test/support/build.js';
import { freePorts, logMessages } from '../test/support/cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'kafu-bench-serve-'));
const hops = 10;
const TLS = '  tls: { ca: ./certs/ca.crt, cert: "./certs/${node}.crt", key: "./certs/${node}.key" }';
const MODES = [
  { name: 'full', yaml: `  migration: { memory_migration: full, memory_compression: false }\n${TLS}` },
  { name: 'default (delta+compr.)', yaml: `  migration: { memory_migration: delta, memory_compression: true }\n${TLS}` },
  { name: 'full, plaintext', yaml: '  migration: { memory_migration: full, memory_compression: false }\n  tls: plaintext' },
  { name: 'default, plaintext', yaml: '  migration: { memory_migration: delta, memory_compression: true }\n  tls: plaintext' },
];

function runNode(id: string, config: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [KAFU_BIN, 'serve', '--node-id', id, config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('close', (code) => resolve({ code, stderr: Buffer.concat(err).toString('utf8') }));
  });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const toMB = (text: string) => {
  const [, n, unit] = /([\d.]+) (B|KB|MB)/.exec(text)!;
  return Number(n) / (unit === 'MB' ? 1 : unit === 'KB' ? 1024 : 1024 * 1024);
};

try {
  await writeClusterCerts('bench', ['cloud', 'edge'].map((id) => ({ id, address: '127.0.0.1', port: 1 })), join(dir, 'certs'), { days: 30 });
  const wasm = join(dir, 'heap_hops.wasm');
  const code = await compile(['-O2', 'bench/programs/heap_hops.c', '-o', wasm], { lang: 'c', cwd: process.cwd(), instrument: true, log: () => {} });
  if (code !== 0) throw new Error('compile failed');
  console.log(`bench/programs/heap_hops.c between two kafu serve processes (loopback), ${hops} round trips`);
  console.log('heap MB  mode                    migrations  first MB  later MB (mean)  downtime ms (mean)  (max)   wall s');
  // `npm run bench:serve -- 1 16` runs only those heap sizes.
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  for (const mb of sizes.length > 0 ? sizes : [1, 16, 64, 256]) {
    for (const mode of MODES) {
      const [p1, p2] = await freePorts(2);
      const config = join(dir, `kafu-config-${mb}.yaml`);
      writeFileSync(
        config,
        `name: bench\napp:\n  path: ${wasm}\n  args: ["${mb}", "${hops}"]\nnodes:\n  cloud: { address: 127.0.0.1, port: ${p1} }\n` +
          `  edge: { address: 127.0.0.1, port: ${p2} }\ncluster:\n${mode.yaml}\n`,
      );
      const t0 = performance.now();
      const [edge, cloud] = await Promise.all([runNode('edge', config), runNode('cloud', config)]);
      const wall = (performance.now() - t0) / 1000;
      if (cloud.code !== 0 || edge.code !== 0) throw new Error(`run failed:\n${cloud.stderr}\n${edge.stderr}`);
      const moves = [...logMessages(cloud.stderr), ...logMessages(edge.stderr)]
        .map((l) => /^Program moved to \S+: (.*) sent .*downtime ([\d.]+) ms$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null);
      const sent = moves.map((m) => toMB(m[1]!));
      const downtimes = moves.map((m) => Number(m[2]));
      // The log order across the two processes is not the hop order; the first hop is the largest one.
      const first = Math.max(...sent);
      const later = sent.filter((_, i) => i !== sent.indexOf(first));
      console.log(
        `${String(mb).padStart(7)}  ${mode.name.padEnd(22)}  ${String(moves.length).padStart(10)}  ${first.toFixed(2).padStart(8)}  ` +
          `${mean(later).toFixed(3).padStart(15)}  ${mean(downtimes).toFixed(1).padStart(18)}  ${Math.max(...downtimes).toFixed(1).padStart(6)}  ${wall.toFixed(1).padStart(6)}`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
