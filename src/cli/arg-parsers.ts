// Option parsers shared by the subcommands (commander reports the InvalidArgumentError with the option's name).
import { InvalidArgumentError } from 'commander';

export const wholeNumber = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}`);
  return n;
};

/** For a repeatable option: every value, in order (none given: the default, else undefined). */
export const collect = (v: string, prev: string[] = []) => [...prev, v];

/**
 * The log level the environment asks for: KAFU_LOG, else RUST_LOG as the original Kafu reads it — a level
 * (`debug`), or directives (`kafu=debug,h2=warn`) of which a bare level or one for a `kafu…` target counts.
 */
export function envLogLevel(env: NodeJS.ProcessEnv = process.env): string {
  if (env['KAFU_LOG']) return env['KAFU_LOG'];
  const levels = /^(error|warn|info|debug|trace)$/i;
  for (const d of (env['RUST_LOG'] ?? '').split(',').map((s) => s.trim())) {
    const [target, level] = d.includes('=') ? d.split('=', 2) as [string, string] : ['', d];
    if ((target === '' || target.startsWith('kafu')) && levels.test(level)) return /^trace$/i.test(level) ? 'debug' : level.toLowerCase();
  }
  return 'info';
}
