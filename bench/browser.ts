// npm run bench:browser — migration downtime between a `kafu serve` node (cloud, Node) and a browser node (edge)
// whose program runs in a headless browser tab (Chromium, Firefox ESR: the system's packages), against the same
// two nodes both on Node; bench/programs/heap_hops.c, from the senders' "Program moved" log lines: p50, p90 and max
// per direction. `npm run bench:browser -- --hops 30 --heap 1`.
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { compile } from '../src/clang/index.js';
import { repoRoot } from '../test/support/build.js';
import { BROWSERS, browserMissing, launchBrowser } from '../test/support/browser.js';
import { freePorts, logMessages, runCluster } from '../test/support/cluster.js';
import { freshDir } from '../test/support/forced.js';

const flag = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const hops = flag('hops', 30);
const heapMb = flag('heap', 1);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const f1 = (n: number) => n.toFixed(1);
const downtimes = (stderr: string) =>
  logMessages(stderr)
    .map((l) => /^Program moved to \S+: .*downtime ([\d.]+) ms$/.exec(l)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(Number);
const sizes = (stderr: string) =>
  logMessages(stderr)
    .map((l) => /^Program moved to \S+: ([\d.]+ [KM]?B) sent/.exec(l)?.[1])
    .filter((m): m is string => m !== undefined);

const dir = await freshDir('kafu-bench-browser-');
const wasm = join(dir, 'heap_hops.wasm');
const quiet = { log: () => {}, stderr: (t: string) => void process.stderr.write(t) };
if ((await compile(['-O2', 'bench/programs/heap_hops.c', '-o', wasm], { lang: 'c', cwd: repoRoot, instrument: true, ...quiet })) !== 0) {
  throw new Error('compile of bench/programs/heap_hops.c failed');
}

console.log(`migration downtime, bench/programs/heap_hops.c (${heapMb} MB heap, ${hops} round trips), mTLS, cloud on Node`);
console.log('edge                 hops  → edge p50  p90     max   ← back p50  p90     max   sent → / ←');
for (const edge of ['node', ...BROWSERS.map((b) => b.name)]) {
  const kind = BROWSERS.find((b) => b.name === edge);
  const missing = kind && browserMissing(kind);
  if (missing) {
    console.log(`${edge.padEnd(18)} skipped: ${missing}`);
    continue;
  }
  const browser = kind && (await launchBrowser(kind));
  let page: Page | undefined;
  try {
    const [port] = await freePorts(1);
    const run = await runCluster(wasm, {
      nodes: ['cloud', 'edge'],
      args: [String(heapMb), String(hops)],
      timeoutMs: 300_000,
      nodeYaml: kind ? { edge: [`    browser: { port: ${port} }`] } : undefined,
      whileRunning: async (c) => {
        if (!browser) return;
        await c.printed('edge', 'in a browser (one tab at a time');
        page = await browser.browser.newPage();
        await page.goto(/open (http:\/\/\S+) in a browser/.exec(c.stderr('edge'))![1]!);
      },
    });
    const [c, e] = [run.nodes.cloud!, run.nodes.edge!];
    if (c.exitCode !== 0) throw new Error(`${edge}: ${c.stderr}\n${e.stderr}`);
    const [out, back] = [downtimes(c.stderr), downtimes(e.stderr)];
    const row = (xs: number[]) => `${f1(quantile(xs, 0.5)).padStart(8)} ${f1(quantile(xs, 0.9)).padStart(7)} ${f1(Math.max(...xs)).padStart(7)}`;
    const label = kind ? `${edge} tab` : 'node';
    console.log(`${label.padEnd(18)} ${String(out.length + back.length).padStart(5)}   ${row(out)}    ${row(back)}   ${sizes(c.stderr).at(-1)} / ${sizes(e.stderr).at(-1)}`);
  } finally {
    await browser?.close();
  }
}
