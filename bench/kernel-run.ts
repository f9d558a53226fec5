// One run of a kernel of bench/programs/kernels.c: `node dist/bench/kernel-run.js FILE.wasm KERNEL`. bench:instrument
// runs it under valgrind to count the machine instructions a kernel executes (the count does not change with load).
import { readFileSync } from 'node:fs';
import { runWasiModule } from '../src/run/run.js';

const [file, kernel] = process.argv.slice(2);
if (!file || !kernel) {
  console.error('usage: node dist/bench/kernel-run.js FILE.wasm KERNEL');
  process.exit(2);
}
const code = await runWasiModule(readFileSync(file), file, { args: ['bench', kernel], env: [], preopens: [], stdout: () => {}, stderr: () => {} });
process.exit(code);
