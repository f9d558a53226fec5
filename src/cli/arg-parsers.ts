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

/** HOST:PORT ([V6]:PORT for an IPv6 address), as `--tcplisten` takes it. */
export const hostPort = (v: string): { address: string; port: number } => {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(v);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) throw new InvalidArgumentError('expected HOST:PORT, e.g. 127.0.0.1:8080 (port 1–65535)');
  return { address: (m[1] ?? m[2])!, port };
};

/** For a repeatable option that parses each value. */
export const collectParsed = <T>(parse: (v: string) => T) => (v: string, prev: T[] = []) => [...prev, parse(v)];
