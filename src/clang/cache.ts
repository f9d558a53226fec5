// A content-addressed cache of `kafu clang`'s work, so that building the same thing again costs a hash instead of
// loading a 100 MB toolchain (or the instrumenter): like ccache, but exact. The bundled toolchain sees nothing but
// the files kafu loads into its in-memory tree, so the key — every loaded file, the full argument list, and the
// identity of the code that runs (kafu's compiled sources, the toolchain and binaryen versions) — covers every input.
// Only successful runs are kept. KAFU_CACHE=off turns it off; KAFU_CACHE_DIR moves it (default: the user's cache
// folder). Entries are bounded in total size; the least recently used go first.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Total size the cache folder is kept under (per kind). */
export const CACHE_MAX_BYTES = 512 * 1024 * 1024;
const FORMAT = 'kafu-clang-cache-2';
/**
 * An entry file is MAGIC, then SHA-256(key, payload), then the payload. A file damaged in any way (cut short, a
 * flipped bit, renamed onto another key, left by an older kafu) fails the seal and is a miss, removed: a cache never
 * turns a disk error into a wrong object file. (It is not a defence against someone who can write the cache
 * folder: they could write a valid seal too, as they could replace kafu itself; keep KAFU_CACHE_DIR private.)
 */
const MAGIC = Buffer.from('kafucch2', 'latin1');
const SEAL_BYTES = 32;
/** The largest entry kept (and read back: a larger file is not ours). */
const MAX_ENTRY_BYTES = CACHE_MAX_BYTES / 4;

function seal(key: string, data: Uint8Array): Buffer {
  return createHash('sha256').update(key).update(data).digest();
}

export type CacheKind = 'clang' | 'instrument';

/** The cache folder, or undefined when caching is off. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (/^(off|0|false|no)$/i.test(env['KAFU_CACHE'] ?? '')) return undefined;
  if (env['KAFU_CACHE_DIR']) return env['KAFU_CACHE_DIR'];
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'kafu');
}

let codeId: string | undefined;
/**
 * What produces a cached result besides its inputs: kafu's own compiled code for compiling and instrumenting (so a
 * changed kafu never reuses an old result, whatever its version says) and the versions of the packages it drives.
 */
export function codeIdentity(versions: Record<string, string | undefined>): string {
  if (codeId === undefined) {
    const h = createHash('sha256');
    const src = fileURLToPath(new URL('..', import.meta.url)); // dist/src (or src under a TS loader)
    for (const dir of ['clang', 'instrument', 'core']) {
      let names: string[];
      try {
        names = readdirSync(join(src, dir)).filter((n) => /\.(js|ts|wat)$/.test(n) && !n.includes('.test.')).sort();
      } catch {
        continue;
      }
      for (const n of names) h.update(`${dir}/${n}\0`).update(readFileSync(join(src, dir, n)));
    }
    codeId = h.digest('hex');
  }
  return createHash('sha256').update(FORMAT).update(codeId).update(JSON.stringify(versions)).digest('hex');
}

/** Builds a key from parts; each part is length-prefixed, so no two lists of parts give the same bytes. */
export class CacheKey {
  private readonly h = createHash('sha256');
  add(part: string | Uint8Array): this {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(bytes.length));
    this.h.update(len).update(bytes);
    return this;
  }
  digest(): string {
    return this.h.digest('hex');
  }
}

/** Entry bytes for `key`, or undefined. A hit is marked used (its mtime), for the size bound's LRU order. */
export function cacheGet(kind: CacheKind, key: string, env?: NodeJS.ProcessEnv): Uint8Array | undefined {
  const dir = cacheDir(env);
  if (!dir) return undefined;
  const file = join(dir, kind, key);
  try {
    if (statSync(file).size > MAGIC.length + SEAL_BYTES + MAX_ENTRY_BYTES) throw new Error('too large');
    const bytes = readFileSync(file);
    const data = bytes.subarray(MAGIC.length + SEAL_BYTES);
    if (bytes.length < MAGIC.length + SEAL_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC) ||
        !bytes.subarray(MAGIC.length, MAGIC.length + SEAL_BYTES).equals(seal(key, data))) {
      throw new Error('damaged');
    }
    const now = new Date();
    utimesSync(file, now, now);
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  } catch (e) {
    // Not there is a miss; anything else that is there is damaged and goes, so that the rebuild replaces it.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') removeEntry(file);
    return undefined;
  }
}

/** Store an entry (atomically: a reader sees all of it or nothing); any failure only means no caching. */
export function cachePut(kind: CacheKind, key: string, data: Uint8Array, env?: NodeJS.ProcessEnv): void {
  const dir = cacheDir(env);
  if (!dir || data.length > MAX_ENTRY_BYTES) return;
  const folder = join(dir, kind);
  try {
    mkdirSync(folder, { recursive: true });
    const tmp = join(folder, `.${key}.${process.pid}.tmp`);
    writeFileSync(tmp, Buffer.concat([MAGIC, seal(key, data), data]));
    renameSync(tmp, join(folder, key));
    prune(folder);
  } catch {
    /* a read-only or full disk: build without the cache */
  }
}

function removeEntry(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* gone already, or a read-only cache: a miss all the same */
  }
}

function prune(folder: string): void {
  const entries = readdirSync(folder)
    .filter((n) => !n.startsWith('.'))
    .flatMap((n) => {
      try {
        const st = statSync(join(folder, n));
        return [{ n, size: st.size, used: st.mtimeMs }];
      } catch {
        return [];
      }
    });
  let total = entries.reduce((s, e) => s + e.size, 0);
  if (total <= CACHE_MAX_BYTES) return;
  entries.sort((a, b) => a.used - b.used);
  for (const e of entries) {
    if (total <= CACHE_MAX_BYTES * 0.75) break;
    removeEntry(join(folder, e.n));
    total -= e.size;
  }
}

/** A list of named byte strings as one buffer (an entry's payload), and back. */
export function packParts(parts: [string, Uint8Array][]): Uint8Array {
  const head = Buffer.from(JSON.stringify(parts.map(([n, b]) => [n, b.length])), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  return Buffer.concat([len, head, ...parts.map(([, b]) => b)]);
}

export function unpackParts(data: Uint8Array): [string, Uint8Array][] | undefined {
  try {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
    const headLen = buf.readUInt32LE(0);
    const head = JSON.parse(buf.subarray(4, 4 + headLen).toString('utf8')) as [string, number][];
    let at = 4 + headLen;
    const out: [string, Uint8Array][] = [];
    for (const [name, n] of head) {
      if (typeof name !== 'string' || !Number.isInteger(n) || n < 0 || at + n > buf.length) return undefined;
      out.push([name, new Uint8Array(buf.subarray(at, at + n))]);
      at += n;
    }
    return at === buf.length ? out : undefined;
  } catch {
    return undefined; // a damaged entry is a miss
  }
}
