// `kafu singlenode serve CONFIG`: run every node of a config in this one process.
import { Command, InvalidArgumentError } from 'commander';
import { envLogLevel } from './arg-parsers.js';
import { createLogger, parseLevel } from '../core/log.js';
import { readProcessStdin } from '../node/stdin.js';
import { writeLogLine } from '../node/stderr-line.js';
import { singlenodeServe } from '../singlenode/singlenode.js';

export function registerSinglenode(program: Command): void {
  const singlenode = program
    .command('singlenode')
    .description('Run a Kafu program with all its nodes in one process (development)');
  singlenode
    .command('serve')
    .description(
      'Start the program on the first node of CONFIG; at every migration the program is checkpointed to snapshot ' +
        'bytes and restored into a fresh instance, as between real nodes. Exits with the program\'s exit code.',
    )
    .argument('<config>', 'kafu-config.yaml')
    .option('--log-level <level>', 'error, warn, info or debug (also KAFU_LOG, or RUST_LOG as the original Kafu reads it)', envLogLevel())
    .option(
      '--force-migration-every <n>',
      'testing: also move the program to the next node after every n-th WASI call (build with --kafu-syscall-points)',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
        return n;
      },
    )
    .action(async (config: string, o: { logLevel: string; forceMigrationEvery?: number }) => {
      const log = createLogger(writeLogLine, parseLevel(o.logLevel));
      const { exitCode } = await singlenodeServe(config, { log, forceMigrationEvery: o.forceMigrationEvery, stdin: readProcessStdin });
      process.exitCode = exitCode;
    });
}
