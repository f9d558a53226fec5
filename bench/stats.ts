// What the benchmarks share: percentiles of a sample, and the same-run baselines they compare with (what copying
// and reading memory costs in this process, measured now, so that a busy or a fast machine shows in both).

export interface Percentiles {
  p50: number;
  p90: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles (NaN for an empty sample). */
export function percentiles(xs: number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
  return { p50: at(0.5), p90: at(0.9), max: s.at(-1) ?? NaN, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

export const fmt = (n: number, width: number) => (Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(2) : n.toFixed(1)).padStart(width);

/** The median of `runs` timings of `f`. */
export function medianMs(runs: number, f: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  return percentiles(times).p50;
}

/** One copy of `bytes` into memory already in use (no page faults), ms. */
export function copyMs(bytes: number): number {
  const from = new Uint8Array(bytes).fill(7);
  const to = new Uint8Array(bytes).fill(1);
  return medianMs(5, () => to.set(from));
}

/** One pass over `bytes` compared with a copy of them (Node's memcmp, what a delta's sender does), ms. */
export function scanMs(bytes: number): number {
  const a = Buffer.alloc(bytes, 7);
  const b = Buffer.alloc(bytes, 7);
  return medianMs(5, () => Buffer.compare(a, b));
}
