// The list of subcommands. Each file registers one tool.
import type { Command } from 'commander';
import { registerCerts } from './certs.js';
import { registerClang } from './clang.js';
import { registerDoctor } from './doctor.js';
import { registerInspect } from './inspect.js';
import { registerKustomize } from './kustomize.js';
import { registerRun } from './run.js';
import { registerServe } from './serve.js';
import { registerSinglenode } from './singlenode.js';

export function registerCommands(program: Command): void {
  registerClang(program);
  registerSinglenode(program);
  registerServe(program);
  registerCerts(program);
  registerInspect(program);
  registerRun(program);
  registerKustomize(program);
  registerDoctor(program);
}
