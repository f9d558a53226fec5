// Shared by the core tests: build a program twice (instrumented for the migrating run, uninstrumented for the
// baseline) and check that the two runs cannot be told apart except by the migrations.
import assert from 'node:assert/strict';
import { buildWasm, type BuildSpec } from '../support/build.js';
import { runBoth, type MigratingOptions, type MigratingOutput, type RunOutput } from '../support/run.js';
import type { Migration } from '../../src/core/migration-stack.js';

export const PROGRAMS = 'test/programs/core';

export interface Pair {
  instrumented: string;
  plain: string;
}

export async function buildPair(spec: Omit<BuildSpec, 'instrument'>): Promise<Pair> {
  // One after the other: the bundled compiler runs on this thread, so running both at once gains nothing.
  const instrumented = await buildWasm({ ...spec, instrument: true });
  const plain = await buildWasm({ ...spec, instrument: false });
  return { instrumented, plain };
}

/**
 * Run both builds (each on its own copy of `files` when given) and assert: same stdout, stderr, exit code and
 * files; the migrations are exactly `expected`; the runtime logged each of them and where the program ended.
 */
export async function assertSameAsPlain(
  pair: Pair,
  opts: {
    nodes: string[];
    args?: string[];
    files?: Record<string, string>;
    migration?: MigratingOptions['migration'];
    /** The exact migrations, or a function of the program's stdout giving them. */
    expected: Migration[] | ((stdout: string) => Migration[]);
    endsOn?: string;
  },
): Promise<{ migrating: MigratingOutput; plain: RunOutput; files?: Record<string, string> }> {
  const r = await runBoth(pair.instrumented, pair.plain, opts);
  const expected = typeof opts.expected === 'function' ? opts.expected(r.plain.stdout) : opts.expected;
  assert.equal(r.migrating.stdout, r.plain.stdout, 'stdout differs between the migrating and the plain run');
  assert.equal(r.migrating.stderr, r.plain.stderr, 'stderr differs between the migrating and the plain run');
  assert.equal(r.migrating.exitCode, r.plain.exitCode, 'exit code differs between the migrating and the plain run');
  assert.deepEqual(r.migratingFiles, r.plainFiles, 'files differ between the migrating and the plain run');
  assert.deepEqual(r.migrating.migrations, expected, 'migration sequence');
  assert.equal(r.migrating.result.migrations, expected.length);
  assert.equal(r.migrating.snapshotBytes.length, expected.length);
  const { logs } = r.migrating;
  assert.equal(logs[0], `Program is starting on ${opts.nodes[0]}`);
  const described = expected.map(
    (x) => `Migration ${x.from} -> ${x.to} (${x.reason === 'enter' ? 'Entering' : 'Returning from'} ${x.fn})`,
  );
  assert.deepEqual(logs.filter((l) => l.startsWith('Migration ')), described);
  const endsOn = opts.endsOn ?? expected.at(-1)?.to ?? opts.nodes[0];
  assert.equal(logs.at(-1), `Program finished on ${endsOn} (exit code ${r.migrating.exitCode})`);
  return { migrating: r.migrating, plain: r.plain, files: r.migratingFiles };
}

/** `n` round trips of `fn` from `home` to `away`. */
export function roundTrips(n: number, home: string, away: string, fn: string): Migration[] {
  const out: Migration[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ from: home, to: away, reason: 'enter', fn }, { from: away, to: home, reason: 'return', fn });
  }
  return out;
}
