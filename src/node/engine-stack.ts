// The engine stack of the thread a program runs on. A C program's recursion lives on two stacks: its own C stack in
// linear memory (sized at link time, -Wl,-z,stack-size=…), and the engine's native stack, one frame per wasm call.
// A Node thread's engine stack is small (about 1 MiB on the main thread, 4 MiB in a worker), far less than what an
// 8 MiB C stack lets a program recurse, so every program runs on a thread whose stack is KAFU_STACK_MB (default
// 256 MiB: a few hundred bytes per wasm frame, more than any C stack up to 64 MiB allows at its 16-byte minimum
// frame that is also a wasm call; reserved, not committed, until used). When even that overflows, the program
// traps (exit 134) with a message naming KAFU_STACK_MB (core/trap.ts).
import { Worker } from 'node:worker_threads';
import { UserError } from '../core/errors.js';

export const DEFAULT_STACK_MB = 256;

/** The engine stack for program threads, in MiB: KAFU_STACK_MB, or the default. */
export function engineStackMb(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KAFU_STACK_MB;
  if (raw === undefined || raw === '') return DEFAULT_STACK_MB;
  const mb = Number(raw);
  if (!Number.isInteger(mb) || mb < 1 || mb > 65536) {
    throw new UserError(`KAFU_STACK_MB=${raw}: expected a whole number of MiB from 1 to 65536 (default ${DEFAULT_STACK_MB})`);
  }
  return mb;
}

/**
 * Run the CLI (`entry`, with this process's arguments) again on a thread with the program engine stack, and resolve
 * to its exit code. Its stdout and stderr are this process's; an error it does not handle is printed, exit 1.
 */
export function runOnProgramThread(entry: URL): Promise<number> {
  const stackSizeMb = engineStackMb();
  return new Promise((resolve) => {
    const worker = new Worker(entry, { argv: process.argv.slice(2), resourceLimits: { stackSizeMb } });
    let failed = false;
    worker.on('error', (e) => {
      failed = true;
      process.stderr.write(`${e.stack ?? e}\n`);
    });
    worker.on('exit', (code) => resolve(failed && code === 0 ? 1 : code));
  });
}
