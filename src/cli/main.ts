// The `kafu` command: one subcommand per tool, each a thin layer over library code (src/<tool>/).
import { Command, CommanderError } from 'commander';
import { UserError } from '../core/errors.js';
import { kafuVersion } from '../node/package-info.js';
import { registerCommands } from './commands.js';

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

await registerCommands(program, process.argv.slice(2));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (e instanceof UserError) {
    process.stderr.write(`kafu: error: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  throw e;
}
