// npm run fuzz [-- --seconds N --seed S]: the fuzzing of `npm test` (test/fuzz/, test/security/), for longer. 40 %
// of the time mutated and random transfers and snapshots go into the decoders, 40 % hostile Migrate calls go into a
// real `kafu serve` node while the program runs on another (which must then finish normally), 10 % mutated configs
// into the config parser and 10 % mutated modules into the runtime. Prints cases run, clean
// refusals and failures (with the seed and case that reproduce each); exits 1 on any failure.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWasm } from '../test/support/build.js';
import { fuzzServe } from '../test/support/fuzz-serve.js';
import { fuzzDecoders, type Tally } from '../test/support/fuzz.js';
import { fuzzConfigs, fuzzModules, type FuzzStats } from '../test/support/fuzz-values.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '120' }, seed: { type: 'string', default: String(Date.now() % 1e6) } } });
const seconds = Number(values.seconds);
const seed = Number(values.seed);
if (!(seconds > 0) || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [--seconds N] [--seed S]');
  process.exit(2);
}
const half = seconds * 1000 * 0.4;
const tenth = seconds * 0.1;

const show = (what: string, t: Tally) => {
  const kinds = Object.entries(t.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`${what}: ${t.cases} cases, ${t.refusals} refused, ${t.accepted} decoded, ${t.failures.length} failures (${kinds})`);
  for (const f of t.failures.slice(0, 20)) console.log(`  FAIL ${f}`);
};

console.log(`fuzzing for ${seconds} s, seed ${seed}`);
const decoders = fuzzDecoders(seed, half);
show('decoders', decoders);

const comeback = await buildWasm({ sources: ['test/programs/serve/comeback.c'], args: ['-O1'] });
const dir = await mkdtemp(join(tmpdir(), 'kafu-fuzz-'));
let failed = decoders.failures.length > 0;
try {
  const { tally, run, rss, flood } = await fuzzServe(comeback, dir, seed, half);
  show('Migrate calls into kafu serve', tally);
  console.log(`  64 MiB sent after declaring 1 byte: status ${flood.code} after ${flood.ms.toFixed(0)} ms`);
  console.log(`  the attacked node's memory: ${(rss.before / 2 ** 20).toFixed(0)} MiB before, ${(rss.after / 2 ** 20).toFixed(0)} MiB after`);
  const ok = run.nodes.cloud!.exitCode === 0 && run.nodes.edge!.exitCode === 0 && run.nodes.cloud!.stdout.endsWith('cloud: total 30\n');
  console.log(`  the program afterwards: ${ok ? 'finished normally' : 'FAILED'} (exit codes ${run.nodes.cloud!.exitCode}, ${run.nodes.edge!.exitCode})`);
  if (!ok) console.log(run.nodes.cloud!.stderr + run.nodes.edge!.stderr);
  failed ||= tally.failures.length > 0 || !ok;
} finally {
  await rm(dir, { recursive: true, force: true });
}
const showStats = (what: string, s: FuzzStats) => console.log(`${what}: ${s.cases} cases, ${s.refused} refused, ${s.accepted} accepted, 0 failures`);
// These two throw on the first failure (with the seed and case that reproduce it).
try {
  showStats('configs', await fuzzConfigs(seed, tenth));
  const wasm = new Uint8Array(await readFile(await buildWasm({ sources: ['examples/basic/main.c'], args: ['-O1'] })));
  showStats('modules', await fuzzModules(seed, tenth, wasm));
} catch (e) {
  console.log(`  FAIL ${(e as Error).message}`);
  failed = true;
}
process.exit(failed ? 1 : 0);
