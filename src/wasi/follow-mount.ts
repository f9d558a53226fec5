// A mount whose files follow the program. Each node keeps its own copy of the folder; when the program leaves a
// node, the files it changed there travel in the snapshot (as blobs) and are written into the destination's copy
// before the program's descriptors are reopened. Versions, not hashes, say what a node already has: a file
// gets a new version whenever the program's node sees its stat change, and the snapshot remembers, per node, the
// versions that node held when the program last left it — so returning to a node sends only what changed since.
import type { FsBackend, FsKind } from './fs-backend.js';

type EntryKind = 'file' | 'directory' | 'symlink';
/** path → version; directories and symlinks are versioned too. */
type Manifest = Record<string, { kind: EntryKind; version: string }>;

export interface FollowMountState {
  /** Versions each node held when the program last left it (or arrived, for the destination). */
  known: Record<string, Manifest>;
  /** Current versions, as of the last departure. */
  manifest: Manifest;
  counter: number;
}

export interface FollowMountTransfer {
  state: FollowMountState;
  /** Entries to create or overwrite on the destination; file and symlink contents are blobs by index. */
  upserts: { path: string; kind: EntryKind; blob?: number }[];
  deletes: string[];
}

interface Seen {
  kind: EntryKind;
  statKey: string;
}

const kindOf = (k: FsKind): EntryKind | undefined => (k === 'file' || k === 'directory' || k === 'symlink' ? k : undefined);
const join = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);
const depth = (p: string) => p.split('/').length;

function scan(fs: FsBackend): Map<string, Seen> {
  const out = new Map<string, Seen>();
  const walk = (dir: string) => {
    for (const name of fs.readdir(dir).sort()) {
      const path = join(dir, name);
      const st = fs.lstat(path);
      const kind = kindOf(st.kind);
      if (!kind) continue; // sockets, fifos, devices do not travel
      out.set(path, { kind, statKey: `${kind}:${st.size}:${st.mtimNs}:${st.ino}` });
      if (kind === 'directory') walk(path);
    }
  };
  walk('');
  return out;
}

function readAll(fs: FsBackend, path: string): Uint8Array {
  const h = fs.open(path, { read: true, write: false, create: false, exclusive: false, truncate: false });
  try {
    const size = Number(fs.fstat(h).size);
    const buf = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = fs.pread(h, buf.subarray(done), BigInt(done));
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    fs.close(h);
  }
}

function writeAll(fs: FsBackend, path: string, data: Uint8Array): void {
  const h = fs.open(path, { read: false, write: true, create: true, exclusive: false, truncate: true });
  try {
    let done = 0;
    while (done < data.length) done += fs.pwrite(h, data.subarray(done), BigInt(done));
  } finally {
    fs.close(h);
  }
}

function removeTree(fs: FsBackend, path: string): void {
  let st;
  try {
    st = fs.lstat(path);
  } catch {
    return; // already gone
  }
  if (st.kind === 'directory') {
    for (const name of fs.readdir(path)) removeTree(fs, join(path, name));
    fs.rmdir(path);
  } else {
    fs.unlink(path);
  }
}

export class FollowMount {
  private readonly baseline: Map<string, Seen & { version: string }>;
  private state: FollowMountState;

  /** Arrive on `node`: apply what the program brings, then note what this node's copy now holds. */
  constructor(
    private readonly fs: FsBackend,
    private readonly node: string,
    incoming?: { transfer: FollowMountTransfer; blobs: Uint8Array[] },
  ) {
    this.state = incoming?.transfer.state ?? { known: {}, manifest: {}, counter: 0 };
    if (incoming) this.apply(incoming.transfer, incoming.blobs);
    this.baseline = new Map();
    for (const [path, seen] of scan(fs)) {
      const m = this.state.manifest[path];
      const version = m && m.kind === seen.kind ? m.version : this.newVersion();
      this.baseline.set(path, { ...seen, version });
    }
    this.state.known[node] = this.currentManifest(this.baseline);
  }

  /**
   * Leave for `to`: the files whose version `to` lacks, as blobs appended to `blobs`. `sameStorage` (both nodes
   * use one folder, as in singlenode with a shared path) sends nothing.
   */
  depart(to: string, blobs: Uint8Array[], sameStorage: boolean): FollowMountTransfer {
    const current = new Map<string, Seen & { version: string }>();
    for (const [path, seen] of scan(this.fs)) {
      const before = this.baseline.get(path);
      const version = before && before.statKey === seen.statKey ? before.version : this.newVersion();
      current.set(path, { ...seen, version });
    }
    const manifest = this.currentManifest(current);
    const target = sameStorage ? manifest : this.state.known[to];
    const upserts: FollowMountTransfer['upserts'] = [];
    for (const [path, e] of [...current].sort(([a], [b]) => depth(a) - depth(b) || a.localeCompare(b))) {
      if (target?.[path]?.version === e.version && target[path]!.kind === e.kind) continue;
      const upsert: FollowMountTransfer['upserts'][number] = { path, kind: e.kind };
      if (e.kind !== 'directory') {
        upsert.blob = blobs.length;
        blobs.push(e.kind === 'file' ? readAll(this.fs, path) : new TextEncoder().encode(this.fs.readlink(path)));
      }
      upserts.push(upsert);
    }
    const deletes = target ? Object.keys(target).filter((p) => !current.has(p)) : [];
    this.state.known[this.node] = manifest;
    this.state.known[to] = manifest;
    this.state.manifest = manifest;
    return { state: this.state, upserts, deletes };
  }

  private apply(t: FollowMountTransfer, blobs: Uint8Array[]): void {
    for (const path of [...t.deletes].sort((a, b) => depth(b) - depth(a))) removeTree(this.fs, path);
    for (const u of t.upserts) {
      let existing: EntryKind | undefined;
      try {
        existing = kindOf(this.fs.lstat(u.path).kind);
      } catch {
        existing = undefined;
      }
      if (existing && (existing !== u.kind || u.kind === 'symlink')) {
        if (existing !== 'directory' || u.kind !== 'directory') removeTree(this.fs, u.path);
      }
      if (u.kind === 'directory') {
        if (existing !== 'directory') this.fs.mkdir(u.path);
      } else if (u.kind === 'file') {
        writeAll(this.fs, u.path, blobs[u.blob!]!);
      } else {
        this.fs.symlink(new TextDecoder().decode(blobs[u.blob!]!), u.path);
      }
    }
  }

  private newVersion(): string {
    return `${this.node}:${++this.state.counter}`;
  }

  private currentManifest(entries: Map<string, { kind: EntryKind; version: string }>): Manifest {
    const m: Manifest = {};
    for (const [path, { kind, version }] of entries) m[path] = { kind, version };
    return m;
  }
}
