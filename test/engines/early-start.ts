// Run by engine-workers.test.ts on each engine (not a test file itself): a node's program worker is told to start
// the program at once, as the first node does when every other node is already up, and must run it to its end or
// its first migration. Prints "exited CODE" or "suspended for NODE", or "lost" when nothing happened for 20 s.
import { startTestWorker } from '../support/program-worker.js';

const wasm = process.argv[2]!;
const timer = setTimeout(() => {
  console.log('lost');
  void worker.stop().then(() => process.exit(1));
}, 20_000);
const worker = startTestWorker(wasm, (e) => {
  if (e.type !== 'exited' && e.type !== 'suspended' && e.type !== 'failed') return;
  clearTimeout(timer);
  console.log(e.type === 'exited' ? `exited ${e.code}` : e.type === 'suspended' ? `suspended for ${e.migration.to}` : `failed ${e.message}`);
  void worker.stop().then(() => process.exit(0));
});
worker.start({});
