// Seeded, time-bounded fuzzing of inputs that are values and text (configs, module sections): mutations of bytes
// and of JSON-like trees, and a loop with a time budget (and a floor of cases, so a loaded machine still tests
// something). The same seed gives the same cases; a failure names its seed and case. (fuzz.ts: snapshots, wire.)
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { UserError } from '../../src/core/errors.js';
import { GuestInstance, GuestModule } from '../../src/core/guest.js';
import { META_SECTION } from '../../src/core/metadata.js';
import { checkPlacement } from '../../src/core/program.js';
import { nodeProgramHost } from '../../src/node/node-system.js';
import { concat, parseSections, serializeSections } from '../../src/core/wasm-sections.js';
import { parseConfigText } from '../../src/node/config-file.js';
import { Rng } from './fuzz.js';
import { runMigrating } from './run.js';

/** Values that break naive code: huge, negative, fractional, wrong types, hostile strings. */
export const HOSTILE_VALUES: readonly unknown[] = [
  -1, 0, 1, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, 0.5, NaN, '', '0', '-1', '18446744073709551616', 'x'.repeat(5000),
  '../../victim', '/etc/passwd', 'a/../../b', '\u0000', null, true, [], {}, [1, 2, 3], { a: 1 }, '__proto__',
];

/** A few random byte-level mutations of `input`: flips, overwrites, truncation, duplication, insertion. */
export function mutateBytes(r: Rng, input: Uint8Array): Uint8Array {
  let b: Uint8Array = new Uint8Array(input);
  const n = 1 + r.int(4);
  for (let i = 0; i < n && b.length > 0; i++) {
    const at = r.int(b.length);
    switch (r.int(6)) {
      case 0: b[at]! ^= 1 << r.int(8); break;
      case 1: b[at] = r.pick([0, 0xff, 0x7f, 0x80, r.int(256)]); break;
      case 2: b = b.subarray(0, at); break;
      case 3: { const len = 1 + r.int(64); b = concat([b.subarray(0, at + len), b.subarray(at)]); break; }
      case 4: { const ins = new Uint8Array(1 + r.int(16)).map(() => r.int(256)); b = concat([b.subarray(0, at), ins, b.subarray(at)]); break; }
      default: { const len = 1 + r.int(64); b = concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + len))]); }
    }
  }
  return b;
}

/** Replace one random leaf (or subtree) of a JSON-like value with a hostile value. */
export function mutateJson(r: Rng, value: unknown): unknown {
  const copy = structuredClone(value);
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(copy, []);
  const path = r.pick(paths.slice(1).length ? paths.slice(1) : paths);
  if (path.length === 0) return r.pick(HOSTILE_VALUES);
  let parent = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (r.chance(0.15) && !Array.isArray(parent)) delete parent[last];
  else parent[last] = r.pick(HOSTILE_VALUES);
  return copy;
}

export interface FuzzStats {
  cases: number;
  refused: number;
  accepted: number;
}

/**
 * Run `one(caseRandom, i)` for `seconds` (at least `minCases` times); each returns 'refused' or 'accepted' or
 * throws (a failure: rethrown with the seed and case number so it can be replayed).
 */
export async function fuzz(
  name: string,
  seed: number,
  seconds: number,
  one: (r: Rng, i: number) => Promise<'refused' | 'accepted'> | 'refused' | 'accepted',
  minCases = 20,
): Promise<FuzzStats> {
  const stats: FuzzStats = { cases: 0, refused: 0, accepted: 0 };
  const until = performance.now() + seconds * 1000;
  for (let i = 0; i < minCases || performance.now() < until; i++) {
    const r = new Rng(seed * 1_000_003 + i);
    let outcome: 'refused' | 'accepted';
    try {
      outcome = await one(r, i);
    } catch (e) {
      throw new Error(`${name}: seed ${seed}, case ${i}: ${(e as Error).stack ?? String(e)}`);
    }
    stats.cases++;
    stats[outcome]++;
  }
  return stats;
}

// Configs and modules -------------------------------------------------------------------------------------------

const CONFIG = `name: fuzz
app:
  path: ./main.wasm
  args: ["1", "two"]
  env: { A: b }
  preopened_dir: ./data
  output: first_node
  mounts:
    - { guest: /state, host: "./state/\${node}", mode: follow }
    - { guest: /sensors, host: ./sensors, mode: node-local }
nodes:
  cloud: { address: 127.0.0.1, port: 50051, placement: big }
  edge: { address: edge.local, port: 50052 }
cluster:
  heartbeat: { follower_on_coordinator_lost: ignore, interval_ms: 500 }
  migration: { memory_migration: delta, memory_compression: deflate }
  tls: { ca: ./certs/ca.crt, cert: "./certs/\${node}.crt", key: "./certs/\${node}.key" }
`;

/** A refusal must be a UserError with a message of its own, and never leak a stack trace into it. */
function refusal(e: unknown): 'refused' {
  if (!(e instanceof UserError)) throw e;
  if (e.message.length === 0 || /\n\s+at \S+ \(/.test(e.message)) throw new Error(`a refusal without a clean message: ${e.message}`);
  return 'refused';
}

/** Mutated YAML text (bytes) and hostile values (the parsed tree) into the config parser. */
export function fuzzConfigs(seed: number, seconds: number): Promise<FuzzStats> {
  parseConfigText(CONFIG, '/srv/kafu-config.yaml'); // the seed config is valid
  const tree = parseDocument(CONFIG).toJS() as unknown;
  return fuzz('config', seed, seconds, (r) => {
    const text = r.chance(0.5) ? new TextDecoder().decode(mutateBytes(r, new TextEncoder().encode(CONFIG))) : stringify(mutateJson(r, tree));
    try {
      parseConfigText(text, '/srv/kafu-config.yaml');
      return 'accepted';
    } catch (e) {
      return refusal(e);
    }
  });
}

/**
 * Mutated module bytes, a hostile kafu.meta and a damaged one, each run as the program under singlenode (cloud, edge):
 * a refusal, or a program that runs to its end; a hang (10 s) is a failure.
 */
export async function fuzzModules(seed: number, seconds: number, wasm: Uint8Array): Promise<FuzzStats> {
  const dir = await mkdtemp(join(tmpdir(), 'kafu-fuzz-modules-'));
  const sections = parseSections(wasm);
  const metaAt = sections.findIndex((s) => s.name === META_SECTION);
  const meta = JSON.parse(new TextDecoder().decode(sections[metaAt]!.payload)) as unknown;
  const withMeta = (payload: Uint8Array) => serializeSections(sections.map((s, i) => (i === metaAt ? { ...s, payload } : s)));
  const run = async (bytes: Uint8Array, i: number): Promise<'refused' | 'accepted'> => {
    const file = join(dir, `m${i}.wasm`);
    await writeFile(file, bytes);
    let timer: NodeJS.Timeout | undefined;
    try {
      const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('hang: no end within 10 s')), 10_000)));
      await Promise.race([runMigrating(file, { nodes: ['cloud', 'edge'] }), hang]);
      return 'accepted';
    } catch (e) {
      return refusal(e);
    } finally {
      clearTimeout(timer);
      await rm(file, { force: true });
    }
  };
  const load = async (bytes: Uint8Array): Promise<'refused' | 'accepted'> => {
    try {
      const guest = await GuestModule.load(bytes, 'fuzz.wasm');
      checkPlacement(guest.meta, ['cloud', 'edge'], 'fuzz.wasm');
      const host = nodeProgramHost({ programName: 'fuzz.wasm', args: [], mounts: [], oneMachine: true, stdout: () => {}, stderr: () => {} });
      new GuestInstance(guest, { system: host.createSystem('cloud', undefined), decide: () => undefined, exitCode: host.exitCode });
      return 'accepted';
    } catch (e) {
      return refusal(e);
    }
  };
  try {
    return await fuzz('module', seed, seconds, async (r, i) => {
      const kind = r.int(3);
      // Mutated code may loop forever, as any program may: such a module is only loaded and instantiated. A mutated
      // kafu.meta over intact code is run to its end (the program itself ends; the runtime must too).
      if (kind === 0) return load(mutateBytes(r, wasm));
      if (kind === 1) return run(withMeta(new TextEncoder().encode(JSON.stringify(mutateJson(r, meta)))), i);
      const damaged = [new Uint8Array(), new TextEncoder().encode('{'), new TextEncoder().encode('null'), mutateBytes(r, sections[metaAt]!.payload)];
      return run(withMeta(r.pick(damaged)), i);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
