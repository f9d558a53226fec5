// File times as the program set them, to the nanosecond. A host may store less (node:fs sets times to the
// microsecond: src/node/fs-backend.ts), so the library OS remembers each time a program sets, by path, and reports it
// back as long as the host still holds what that setting left there (the same value, or it truncated to the
// microsecond). Anyone else changing the time (a write, another process) makes the host's value differ, and the
// host's is reported again. Part of the WASI state: the times travel with a migration.

/** A time the program set (ns), and what a host holding only microseconds stores for it. */
interface Kept {
  atim?: bigint;
  mtim?: bigint;
}

const floorUs = (ns: bigint): bigint => ns - (((ns % 1000n) + 1000n) % 1000n);

/** Most paths remembered per mount: the oldest are forgotten (and read back as the host has them). */
const MAX_KEPT = 4096;

export class ExactTimes {
  private readonly kept = new Map<string, Kept>();

  /** The program set times at path (null: left alone). */
  set(path: string, atim: bigint | null, mtim: bigint | null): void {
    const k: Kept = { ...this.kept.get(path) };
    if (atim !== null) k.atim = atim;
    if (mtim !== null) k.mtim = mtim;
    this.kept.delete(path);
    this.kept.set(path, k);
    if (this.kept.size > MAX_KEPT) this.kept.delete(this.kept.keys().next().value!);
  }

  /** A stat of path with the times the program set, where the host still holds them. */
  apply<T extends { atim: bigint; mtim: bigint }>(path: string, st: T): T {
    const k = this.kept.get(path);
    if (!k) return st;
    const same = (host: bigint, set: bigint | undefined) => set !== undefined && (host === set || host === floorUs(set));
    return { ...st, atim: same(st.atim, k.atim) ? k.atim! : st.atim, mtim: same(st.mtim, k.mtim) ? k.mtim! : st.mtim };
  }

  /** A rename moved `from` (and everything under it) to `to`. */
  rename(from: string, to: string): void {
    this.kept.delete(to);
    for (const [p, k] of [...this.kept]) {
      if (p === from || p.startsWith(`${from}/`)) {
        this.kept.delete(p);
        this.kept.set(to + p.slice(from.length), k);
      }
    }
  }

  export(): Array<{ path: string; atim?: string; mtim?: string }> {
    return [...this.kept].map(([path, k]) => ({
      path,
      ...(k.atim !== undefined ? { atim: k.atim.toString() } : {}),
      ...(k.mtim !== undefined ? { mtim: k.mtim.toString() } : {}),
    }));
  }

  import(entries: ReadonlyArray<{ path: string; atim?: string; mtim?: string }>): void {
    this.kept.clear();
    for (const e of entries.slice(-MAX_KEPT)) {
      this.kept.set(e.path, {
        ...(e.atim !== undefined ? { atim: BigInt(e.atim) } : {}),
        ...(e.mtim !== undefined ? { mtim: BigInt(e.mtim) } : {}),
      });
    }
  }
}
