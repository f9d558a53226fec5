// `kafu clang` and `kafu clang++`: every argument goes to clang untouched, except kafu's own --kafu-* flags.
import type { Command } from 'commander';
import { compile } from '../clang/index.js';

export function registerClang(program: Command): void {
  // Without positional options the parent would take `kafu clang --version` (or -V) for its own option.
  program.enablePositionalOptions();
  for (const [name, lang] of [['clang', 'c'], ['clang++', 'c++']] as const) {
    program
      .command(name)
      .description(`compile ${lang === 'c' ? 'C' : 'C++'} to an instrumented wasm32-wasi module (clang arguments; see \`kafu ${name} --help\`)`)
      .usage('[--kafu-* flags] [clang arguments...]')
      .argument('[args...]', 'arguments for clang')
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .passThroughOptions()
      .action(async (_args: string[], _opts: unknown, cmd: Command) => {
        const code = await compile(cmd.args, {
          lang,
          cwd: process.cwd(),
          instrument: true,
          log: (line) => process.stderr.write(line + '\n'),
        });
        process.exitCode = code;
      });
  }
}
