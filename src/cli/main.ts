// The `kafu` command: one subcommand per tool, each a thin layer over library code (src/<tool>/).
import { Command, CommanderError } from 'commander';
import { isMainThread } from 'node:worker_threads';
import { UserError } from '../core/errors.js';
import { engineStackMb, runOnProgramThread } from '../node/engine-stack.js';
import { kafuVersion } from '../node/package-info.js';
import { registerCommands } from './commands.js';
import { internalErrorText, wantsStack } from './internal-error.js';

// A reader that goes away (`kafu … | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const program = new Command('kafu')
  .description('Kafu: write one C/C++ program, run it across cloud and edge nodes with live migration.')
  .version(kafuVersion, '-V, --version')
  .enablePositionalOptions()
  .showHelpAfterError()
  .exitOverride();

// Commands that run a program in this process do it on a thread with a deep engine stack (node/engine-stack.ts);
// `kafu serve` gives its program worker the same.
const RUNS_PROGRAM = new Set(['run', 'singlenode']);

try {
  if (isMainThread && RUNS_PROGRAM.has(process.argv[2] ?? '')) {
    engineStackMb(); // a bad KAFU_STACK_MB is said here, once
    process.exitCode = await runOnProgramThread(new URL(import.meta.url));
  } else {
    await registerCommands(program, process.argv.slice(2));
    await program.parseAsync(process.argv);
  }
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (e instanceof UserError) {
    process.stderr.write(`kafu: error: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(internalErrorText(e, kafuVersion, wantsStack(process.env)));
  process.exit(1);
}
