// A mount whose files follow the program. Each node keeps its own copy of the folder; when the program leaves a
// node, the entries it changed there travel in the snapshot (contents as blobs) and are applied to the
// destination's copy before the program's descriptors are reopened, so the destination's folder then holds
// everything the program has. Arrival removes only what the program removed: entries the destination held when the
// program last left it and that are gone from the program's view. An entry the program never saw there (an
// operator's file, another process's log, a saved .kafusnap) is left alone and becomes part of the program's view.
//
// Versions, not hashes, say what a node already has: an entry gets a new version when the program changed it
// (every write goes through `backend`, which records the paths it touches) or when its stat changed otherwise;
// the snapshot remembers, per node, the versions that node held when the program last left it, so a return trip
// sends only what changed since. File times travel; hard links within the mount stay links.
import {
  parseFollowMountTransfer,
  symlinkTarget,
  type EntryKind,
  type FollowMountState,
  type FollowMountTransfer,
  type FollowMountUpsert,
  type Manifest,
} from './follow-mount-transfer.js';
import type { FsBackend, FsHandle, FsKind, FsOpenFlags, FsStat } from './fs-backend.js';
import { Errno, errnoOf } from './errno.js';
import { NodeStateLostError } from './node-state-lost.js';
import { restoredPath } from './path-resolve.js';
import { StateRefused } from './state-refused.js';

export type { FollowMountState, FollowMountTransfer, FollowMountUpsert };

/** What arrives with the program: the transfer (JSON from the snapshot, checked here), its blobs, the mount's name. */
export interface Arrival {
  transfer: unknown;
  blobs: Uint8Array[];
  /** The mount's guest path, for messages. */
  mount?: string;
}

interface Seen {
  kind: EntryKind;
  statKey: string;
  stat: FsStat;
}

const kindOf = (k: FsKind): EntryKind | undefined => (k === 'file' || k === 'directory' || k === 'symlink' ? k : undefined);
const join = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);
const depth = (p: string) => p.split('/').length;
const within = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

function scan(fs: FsBackend): Map<string, Seen> {
  const out = new Map<string, Seen>();
  const walk = (dir: string) => {
    for (const name of fs.readdir(dir).sort()) {
      const path = join(dir, name);
      const stat = fs.lstat(path);
      const kind = kindOf(stat.kind);
      if (!kind) continue; // sockets, fifos, devices do not travel
      out.set(path, { kind, stat, statKey: `${kind}:${stat.size}:${stat.mtimNs}:${stat.ino}:${stat.nlink}` });
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

const lostHere = (node: string) =>
  `node ${node} lost them since the program left it (restarted on an empty folder, emptied, a browser tab replaced)`;

/** The backend the program uses: every call passes through, and the paths it may change are recorded. */
class RecordingBackend implements FsBackend {
  readonly dirty = new Set<string>();
  private readonly handles = new Map<FsHandle, string>();

  readonly timeSlackNs: number | undefined;

  constructor(private readonly fs: FsBackend) {
    this.timeSlackNs = fs.timeSlackNs;
  }

  private touch(path: string): void {
    this.dirty.add(path);
  }
  private touchHandle(h: FsHandle): void {
    const path = this.handles.get(h);
    if (path !== undefined) this.dirty.add(path);
  }

  lstat(path: string): FsStat {
    return this.fs.lstat(path);
  }
  open(path: string, flags: FsOpenFlags): FsHandle {
    const h = this.fs.open(path, flags);
    this.handles.set(h, path);
    if (flags.write || flags.create || flags.truncate) this.touch(path);
    return h;
  }
  close(h: FsHandle): void {
    this.handles.delete(h);
    this.fs.close(h);
  }
  pread(h: FsHandle, buf: Uint8Array, position: bigint): number {
    return this.fs.pread(h, buf, position);
  }
  pwrite(h: FsHandle, data: Uint8Array, position: bigint): number {
    this.touchHandle(h);
    return this.fs.pwrite(h, data, position);
  }
  fstat(h: FsHandle): FsStat {
    return this.fs.fstat(h);
  }
  ftruncate(h: FsHandle, size: bigint): void {
    this.touchHandle(h);
    this.fs.ftruncate(h, size);
  }
  fsync(h: FsHandle): void {
    this.fs.fsync(h);
  }
  fdatasync(h: FsHandle): void {
    this.fs.fdatasync(h);
  }
  futimes(h: FsHandle, atimNs: bigint | null, mtimNs: bigint | null): void {
    this.touchHandle(h);
    this.fs.futimes(h, atimNs, mtimNs);
  }
  utimes(path: string, atimNs: bigint | null, mtimNs: bigint | null, follow: boolean): void {
    this.touch(path);
    this.fs.utimes(path, atimNs, mtimNs, follow);
  }
  readdir(path: string): string[] {
    return this.fs.readdir(path);
  }
  mkdir(path: string): void {
    this.touch(path);
    this.fs.mkdir(path);
  }
  rmdir(path: string): void {
    this.touch(path);
    this.fs.rmdir(path);
  }
  unlink(path: string): void {
    this.touch(path);
    this.fs.unlink(path);
  }
  rename(from: string, to: string): void {
    this.fs.rename(from, to);
    this.touch(from);
    this.touch(to);
    // Open files inside the moved entry now live under the new name.
    for (const [h, p] of this.handles) if (within(p, from)) this.handles.set(h, to + p.slice(from.length));
  }
  symlink(target: string, path: string): void {
    this.touch(path);
    this.fs.symlink(target, path);
  }
  readlink(path: string): string {
    return this.fs.readlink(path);
  }
  link(existingPath: string, newPath: string): void {
    this.touch(existingPath);
    this.touch(newPath);
    this.fs.link(existingPath, newPath);
  }
}

export class FollowMount {
  /** The backend the program must use, so that its changes are recorded. */
  readonly backend: FsBackend;
  private readonly recorder: RecordingBackend;
  private readonly baseline: Map<string, Seen & { version: string }>;
  private state: FollowMountState;

  /**
   * Arrive on `node`: apply what the program brings, then note what this node's copy now holds. The transfer is
   * hostile until checked: its shape whole before anything is written, each path against the disk as it is
   * applied; a refusal is a StateRefused, and nothing outside the folder is ever touched.
   */
  constructor(
    private readonly fs: FsBackend,
    private readonly node: string,
    incoming?: Arrival,
  ) {
    this.recorder = new RecordingBackend(fs);
    this.backend = this.recorder;
    const what = `follow mount ${incoming?.mount ?? ''}`.trimEnd();
    const transfer = incoming && parseFollowMountTransfer(incoming.transfer, incoming.blobs, what);
    this.state = transfer?.state ?? { known: {}, manifest: {}, counter: 0 };
    if (transfer) {
      try {
        this.apply(transfer, incoming.blobs, what);
      } catch (e) {
        // A folder the transfer writes into is gone: it counted on this node holding it (the sender sends only what
        // a node lacks), and the node lost it. (A hostile transfer that names no parent gets the same answer: send
        // everything; what arrives then is checked as this was.)
        if (e instanceof StateRefused && e.errno === Errno.NOENT) throw new NodeStateLostError(`${e.message}: ${lostHere(node)}`);
        // The host could not do what a checked entry asks (no space, a name too long for it …): this snapshot
        // cannot be restored here either. A bug (no error code) stays one.
        const errno = errnoOf(e);
        if (e instanceof StateRefused || errno === undefined) throw e;
        throw new StateRefused(`${what}: cannot be applied here: ${(e as Error).message}`, errno);
      }
    }
    const here = scan(fs);
    // What the program counts on finding here (sent now, or held since it last left) must be here: a node that lost
    // it (restarted on an empty folder, a browser tab replaced) would otherwise give the program a folder with
    // files missing. Refused so that the sender re-sends every entry (`withEveryEntry`).
    const lost = incoming ? Object.keys(this.state.manifest).filter((p) => !here.has(p)) : [];
    if (lost.length > 0) {
      const some = lost.slice(0, 3).map((p) => `"${p}"`).join(', ') + (lost.length > 3 ? ` and ${lost.length - 3} more` : '');
      throw new NodeStateLostError(`${what}: ${lost.length} of the program's entries are not in node ${node}'s folder (${some}): ${lostHere(node)}`);
    }
    this.baseline = new Map();
    for (const [path, seen] of here) {
      const m = this.state.manifest[path];
      const version = m && m.kind === seen.kind ? m.version : this.newVersion();
      this.baseline.set(path, { ...seen, version });
    }
    this.state.known[node] = this.currentManifest(this.baseline);
  }

  /**
   * Leave for `to`: the entries whose version `to` lacks, file contents appended to `blobs`. `sameStorage` (both
   * nodes use one folder) sends nothing.
   */
  depart(to: string, blobs: Uint8Array[], sameStorage: boolean): FollowMountTransfer {
    const current = new Map<string, Seen & { version: string }>();
    for (const [path, seen] of scan(this.fs)) {
      const before = this.baseline.get(path);
      const unchanged = before && before.statKey === seen.statKey && !this.recorder.dirty.has(path);
      current.set(path, { ...seen, version: unchanged ? before.version : this.newVersion() });
    }
    const manifest = this.currentManifest(current);
    const target = sameStorage ? manifest : this.state.known[to];
    const upserts = upsertsFor(this.fs, current, (path, e) => target?.[path]?.version === e.version && target[path]!.kind === e.kind, blobs);
    const deletes = target ? Object.keys(target).filter((p) => !current.has(p)) : [];
    this.state.known[this.node] = manifest;
    this.state.known[to] = manifest;
    this.state.manifest = manifest;
    return { state: this.state, upserts, deletes };
  }

  /**
   * Every path goes through the one gate (restoredPath) right before the backend is handed it, since an entry
   * applied earlier may have turned a folder on its way into a symlink: `l -> /outside` then `l/x` is refused at
   * `l/x`. Symlinks themselves may point anywhere (a guest's may too): nothing here follows one.
   */
  private apply(t: FollowMountTransfer, blobs: Uint8Array[], what: string): void {
    const fs = this.fs;
    const entry = (path: string) => restoredPath(fs, path, `${what}: entry`);
    for (const path of [...t.deletes].sort((a, b) => depth(b) - depth(a))) {
      let here;
      try {
        here = entry(path);
      } catch (e) {
        if (e instanceof StateRefused && e.errno === Errno.NOENT) continue; // its folder is gone: so is it
        throw e;
      }
      if (here.stat) removeTree(fs, path);
    }
    // Contents first, then hard links to them, then the times of directories (writing inside changes them).
    const ordered = [...t.upserts.filter((u) => u.linkTo === undefined), ...t.upserts.filter((u) => u.linkTo !== undefined)];
    for (const u of ordered) {
      const stat = entry(u.path).stat;
      const existing = stat ? kindOf(stat.kind) : undefined;
      if (stat && !(existing === 'directory' && u.kind === 'directory')) removeTree(fs, u.path);
      if (u.kind === 'directory') {
        if (existing !== 'directory') fs.mkdir(u.path);
      } else if (u.linkTo !== undefined) {
        const target = restoredPath(fs, u.linkTo, `${what}: entry "${u.path}" links to`).stat;
        if (target?.kind !== 'file' && target?.kind !== 'symlink') {
          throw new StateRefused(`${what}: entry "${u.path}" links to "${u.linkTo}", which is ${target ? `a ${target.kind}` : 'missing'}`);
        }
        fs.link(u.linkTo, u.path);
      } else if (u.kind === 'file') {
        writeAll(fs, u.path, blobs[u.blob!]!);
      } else {
        fs.symlink(symlinkTarget(blobs[u.blob!]!), u.path);
      }
      if (u.kind !== 'directory' && u.mtimNs !== undefined) setTimes(fs, u);
    }
    const dirs = t.upserts.filter((u) => u.kind === 'directory' && u.mtimNs !== undefined);
    for (const u of dirs.sort((a, b) => depth(b.path) - depth(a.path))) {
      if (entry(u.path).stat?.kind === 'directory') setTimes(fs, u);
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

/**
 * The upserts for `entries` (this node's, with their versions) that `held` says the destination lacks, contents
 * appended to `blobs`, parents before children; a later name of a hard-linked file links to the first.
 */
function upsertsFor(
  fs: FsBackend,
  entries: Map<string, Seen & { version: string }>,
  held: (path: string, e: { kind: EntryKind; version: string }) => boolean,
  blobs: Uint8Array[],
): FollowMountUpsert[] {
  const upserts: FollowMountUpsert[] = [];
  const firstNameOfInode = new Map<bigint, string>();
  for (const [path, e] of [...entries].sort(([a], [b]) => depth(a) - depth(b) || a.localeCompare(b))) {
    const linked = e.kind !== 'directory' && e.stat.nlink > 1n; // files and symlinks can be hard links
    const linkTo = linked ? firstNameOfInode.get(e.stat.ino) : undefined;
    if (linked && linkTo === undefined) firstNameOfInode.set(e.stat.ino, path);
    if (held(path, e)) continue;
    const upsert: FollowMountUpsert = { path, kind: e.kind, atimNs: e.stat.atimNs.toString(), mtimNs: e.stat.mtimNs.toString() };
    if (linkTo !== undefined) upsert.linkTo = linkTo;
    else if (e.kind !== 'directory') {
      upsert.blob = blobs.length;
      blobs.push(e.kind === 'file' ? readAll(fs, path) : new TextEncoder().encode(fs.readlink(path)));
    }
    upserts.push(upsert);
  }
  return upserts;
}

/**
 * `raw`, a transfer that left this node for `to` (`what` names the mount), made to carry every entry of the
 * program's view, read from `fs` (this node's folder, which holds that view: the program has not run here since),
 * for a destination that may have lost what the transfer counts on it holding: a whole re-send, a saved program.
 * Its deletes and versions stay; the entries it carried already keep their blobs.
 */
export function withEveryEntry(raw: unknown, blobs: Uint8Array[], fs: FsBackend, what: string): FollowMountTransfer {
  const t = parseFollowMountTransfer(raw, blobs, what);
  const entries = new Map<string, Seen & { version: string }>();
  for (const [path, seen] of scan(fs)) {
    const m = t.state.manifest[path];
    if (m && m.kind === seen.kind) entries.set(path, { ...seen, version: m.version });
  }
  const sent = new Set(t.upserts.map((u) => u.path));
  // A hard link's first name may be one the transfer did not carry: then it is carried now, with its contents.
  const added = upsertsFor(fs, entries, (path) => sent.has(path), blobs);
  const upserts = [...t.upserts, ...added].sort((a, b) => depth(a.path) - depth(b.path) || a.path.localeCompare(b.path));
  return { ...t, upserts };
}

function setTimes(fs: FsBackend, u: FollowMountUpsert): void {
  try {
    fs.utimes(u.path, BigInt(u.atimNs!), BigInt(u.mtimNs!), false);
  } catch {
    // Some hosts cannot set a symlink's own times; the contents are what matters.
  }
}
