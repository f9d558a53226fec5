// Option parsers shared by the subcommands (commander reports the InvalidArgumentError with the option's name).
import { InvalidArgumentError } from 'commander';

export const wholeNumber = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}`);
  return n;
};

/** For a repeatable option: every value, in order (none given: the default, else undefined). */
export const collect = (v: string, prev: string[] = []) => [...prev, v];
