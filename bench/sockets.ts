// npm run bench:sockets — a socket's cost where the program runs: request latency (64-byte round trips) and
// throughput (64 MiB one way) through a listener, with `kafu run` (sockets in a helper thread of the process), and
// between two `kafu serve` processes over mutual TLS on loopback with the program on the listener's home node (no
// relay: the worker thread asks the node's main thread) and on the other node (every call relayed). Prints a table.
import { compile } from '../src/clang/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, runCluster, spawnKafu } from '../test/support/cluster.js';
import { connectTo, reader } from '../test/support/sockets.js';

const ROUND_TRIPS = Number(process.env.ROUND_TRIPS ?? 2000);
const SINK_MIB = Number(process.env.SINK_MIB ?? 64);

interface Figures { medianUs: number; p99Us: number; mbPerS: number }

/** One echo connection (latency), then one sink connection (throughput), as sock_echo.c serves them. */
async function measure(port: number): Promise<Figures> {
  const e = await connectTo(port);
  const r = reader(e);
  const msg = Buffer.alloc(64, 'x');
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const t = performance.now();
    e.write(msg);
    await r.until((i + 1) * msg.length);
    times.push((performance.now() - t) * 1000);
  }
  e.end();
  await r.ended;
  times.sort((a, b) => a - b);
  const s = await connectTo(port);
  const rs = reader(s);
  const chunk = Buffer.alloc(1 << 20, 7);
  const t0 = performance.now();
  for (let i = 0; i < SINK_MIB; i++) {
    if (!s.write(chunk)) await new Promise((d) => s.once('drain', d));
  }
  s.end();
  const answer = (await rs.ended).toString();
  const seconds = (performance.now() - t0) / 1000;
  if (answer !== `ok ${SINK_MIB << 20}\n`) throw new Error(`sink answered ${JSON.stringify(answer)}`);
  return { medianUs: times[Math.floor(times.length / 2)]!, p99Us: times[Math.floor(times.length * 0.99)]!, mbPerS: SINK_MIB / seconds };
}

const row = (name: string, f: Figures) =>
  console.log(`${name.padEnd(44)} ${f.medianUs.toFixed(0).padStart(10)} ${f.p99Us.toFixed(0).padStart(9)} ${f.mbPerS.toFixed(1).padStart(10)}`);

const dir = mkdtempSync(join(tmpdir(), 'kafu-bench-sockets-'));
try {
  const wasm = join(dir, 'sock_echo.wasm');
  const code = await compile(['-O2', 'bench/programs/sock_echo.c', '-o', wasm], { lang: 'c', cwd: process.cwd(), instrument: true, log: () => {} });
  if (code !== 0) throw new Error('compile failed');
  console.log(`bench/programs/sock_echo.c: ${ROUND_TRIPS} round trips of 64 bytes, ${SINK_MIB} MiB one way (loopback)`);
  console.log(`${'where the program runs'.padEnd(44)} ${'RTT med µs'.padStart(10)} ${'p99 µs'.padStart(9)} ${'MB/s'.padStart(10)}`);

  const [port] = await freePorts(1);
  const run = spawnKafu(['run', '--tcplisten', `127.0.0.1:${port}`, wasm], dir);
  row('kafu run (no cluster)', await measure(port!));
  if ((await run.done).exitCode !== 0) throw new Error('kafu run failed');

  const [cport] = await freePorts(1);
  let home: Figures | undefined;
  let relayed: Figures | undefined;
  const cluster = await runCluster(wasm, {
    nodes: ['cloud', 'edge'],
    args: ['relay'],
    appYaml: ['  listen:', `    - { address: 127.0.0.1, port: ${cport} }`],
    timeoutMs: 600_000,
    whileRunning: async () => {
      home = await measure(cport!);
      relayed = await measure(cport!);
    },
  });
  if (cluster.nodes.cloud!.exitCode !== 0) throw new Error(`kafu serve failed:\n${cluster.nodes.cloud!.stderr}`);
  row('kafu serve, on the listener\'s home node', home!);
  row('kafu serve, on the other node (relayed, mTLS)', relayed!);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
