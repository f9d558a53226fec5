// The JavaScript engines a `kafu serve` node runs on, and how each one starts this checkout's `kafu`: Node (V8),
// Bun (JavaScriptCore) and Deno (V8 under another host), the latter two from their npm packages (devDependencies,
// binaries included). Tests and `npm run bench:engines` start nodes through `launchOf`; an engine whose binary is not
// installed (a platform its npm package has no binary for) is reported by `missingEngines` and its cases skip.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KAFU_BIN, repoRoot } from './build.js';
import type { KafuLaunch } from './cluster.js';

export const ENGINES = ['node', 'bun', 'deno'] as const;
export type Engine = (typeof ENGINES)[number];

const binary = (name: string) => join(repoRoot, 'node_modules', '.bin', name);

/** The command that runs the JavaScript file `script` on `engine`. */
export function scriptOn(engine: Engine, script: string): KafuLaunch {
  switch (engine) {
    case 'node':
      return { command: [process.execPath, script] };
    case 'bun':
      return { command: [binary('bun'), script] };
    case 'deno':
      // -A: a node reads its config, module and mounts, listens, connects and starts worker threads.
      return { command: [binary('deno'), 'run', '-A', script], env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } };
  }
}

/** The command that runs `kafu` on `engine` (what the README tells users to type). */
export const launchOf = (engine: Engine): KafuLaunch => scriptOn(engine, KAFU_BIN);

/** Engines of `wanted` whose binary is not installed here, with why. */
export function missingEngines(wanted: readonly Engine[]): string[] {
  return wanted
    .filter((e) => e !== 'node' && !existsSync(binary(e)))
    .map((e) => `${e}: no node_modules/.bin/${e} (npm install brings it as a devDependency on linux, macOS and Windows, x64 and arm64)`);
}
