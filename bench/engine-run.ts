// Helper of bench:engines, run by each engine (node, bun, deno): times `kafu run`'s code (the library OS, no
// migration) on a plain and an instrumented build of one program, alternating, and prints the times as JSON.
// In-process, so the engine's start-up is not counted.
import { readFileSync } from 'node:fs';
import { runWasiModule } from '../src/run/run.js';

const [plainFile, kafuFile, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);

async function runMs(file: string): Promise<number> {
  const bytes = readFileSync(file);
  const t0 = performance.now();
  await runWasiModule(bytes, file, { args: ['bench'], env: [], preopens: [], stdout: () => {}, stderr: () => {} });
  return performance.now() - t0;
}

const plain: number[] = [];
const kafu: number[] = [];
for (let i = 0; i < runs; i++) {
  plain.push(await runMs(plainFile!));
  kafu.push(await runMs(kafuFile!));
}
console.log(JSON.stringify({ plain, kafu }));
