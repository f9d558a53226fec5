// `kafu inspect MODULE`: migration points, instrumentation and code size of a module.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { WasmFormatError } from '../core/wasm-sections.js';
import { formatInspectReport, inspectModule } from '../inspect/inspect.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('Show the migration points (function -> node), instrumentation and code size of a wasm module')
    .argument('<module>', 'a .wasm file')
    .option('--json', 'print the report as JSON')
    .action((file: string, o: { json?: boolean }) => {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
      }
      let report;
      try {
        report = inspectModule(bytes, file);
      } catch (e) {
        if (e instanceof WasmFormatError) throw new UserError(`${file}: ${e.message}`);
        throw e;
      }
      process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatInspectReport(file, report));
    });
}
