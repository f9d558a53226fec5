// File times as the program set them, to the nanosecond. A host may store less (node:fs sets times to the
// microsecond, and past 2^32 s to what a double holds: src/node/fs-backend.ts), so the library OS remembers each time
// a program sets, by path, with what the host stored for it, and reports the program's value back as long as the host
// still holds that. Anyone else changing the time (a write, another process) makes the host's value differ, and the
// host's is reported again. Part of the WASI state: the times travel with a migration.

/** A time the program set (ns) and what the host stored for it, per field. */
interface Kept {
  atim?: [set: bigint, host: bigint];
  mtim?: [set: bigint, host: bigint];
}

/** Most paths remembered per mount: the oldest are forgotten (and read back as the host has them). */
const MAX_KEPT = 4096;

export class ExactTimes {
  private readonly kept = new Map<string, Kept>();
  private readonly slack: bigint;

  /** `slackNs`: how far what a host stores may be from the time set (FsBackend.timeSlackNs). */
  constructor(slackNs = 0) {
    this.slack = BigInt(slackNs);
  }

  /** The program set times at path (null: left alone); `host` is a stat of it right after. */
  set(path: string, atim: bigint | null, mtim: bigint | null, host: { atim: bigint; mtim: bigint }): void {
    const k: Kept = { ...this.kept.get(path) };
    if (atim !== null) k.atim = [atim, host.atim];
    if (mtim !== null) k.mtim = [mtim, host.mtim];
    this.kept.delete(path);
    this.kept.set(path, k);
    if (this.kept.size > MAX_KEPT) this.kept.delete(this.kept.keys().next().value!);
  }

  /** A stat of path with the times the program set, where the host still holds them. */
  apply<T extends { atim: bigint; mtim: bigint }>(path: string, st: T): T {
    const k = this.kept.get(path);
    if (!k) return st;
    // What this host stored, or (after a migration, where another engine may have stored it: src/node/fs-backend.ts)
    // a time within the backend's slack of the program's.
    const near = (host: bigint, set: bigint) => host >= set - this.slack && host <= set + this.slack;
    const exact = (host: bigint, kept: Kept['atim']) => (kept !== undefined && (kept[1] === host || near(host, kept[0])) ? kept[0] : host);
    return { ...st, atim: exact(st.atim, k.atim), mtim: exact(st.mtim, k.mtim) };
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

  /** As JSON: [set, host] pairs of decimal strings. */
  export(): Array<{ path: string; atim?: [string, string]; mtim?: [string, string] }> {
    const pair = (p: [bigint, bigint]): [string, string] => [p[0].toString(), p[1].toString()];
    return [...this.kept].map(([path, k]) => ({
      path,
      ...(k.atim !== undefined ? { atim: pair(k.atim) } : {}),
      ...(k.mtim !== undefined ? { mtim: pair(k.mtim) } : {}),
    }));
  }

  import(entries: ReadonlyArray<{ path: string; atim?: [string, string]; mtim?: [string, string] }>): void {
    const pair = (p: [string, string]): [bigint, bigint] => [BigInt(p[0]), BigInt(p[1])];
    this.kept.clear();
    for (const e of entries.slice(-MAX_KEPT)) {
      this.kept.set(e.path, {
        ...(e.atim !== undefined ? { atim: pair(e.atim) } : {}),
        ...(e.mtim !== undefined ? { mtim: pair(e.mtim) } : {}),
      });
    }
  }
}
