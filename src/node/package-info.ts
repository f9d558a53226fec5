// This package's own package.json (the CLI's --version, the default container image's tag).
import { readFileSync } from 'node:fs';

export const kafuVersion: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
