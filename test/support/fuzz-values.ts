// Seeded, time-bounded fuzzing of inputs that are values and text (configs, module sections): mutations of bytes
// and of JSON-like trees, and a loop with a time budget (and a floor of cases, so a loaded machine still tests
// something). The same seed gives the same cases; a failure names its seed and case. (fuzz.ts: snapshots, wire.)
import { Rng } from './fuzz.js';

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

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
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
