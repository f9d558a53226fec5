// The library OS of one node as the core runs it (core/program.ts's ProgramHost), over whatever folders the host
// gives it: a node process's real folders (node/node-system.ts) or a browser tab's in-memory ones
// (browser/tab-host.ts). Builds the state a migration carries — WASI, the follow mounts' files, WASI-NN, the nodes'
// storage identities — and checks and restores it on arrival. Engine-neutral: no host APIs here.
import { z } from 'zod';
import type { MountConfig } from '../core/config.js';
import type { NodeSystem, ProgramHost, SystemState } from '../core/program.js';
import { SnapshotFormatError, type Snapshot } from '../core/snapshot.js';
import { warmUpHeaderCheck } from '../core/snapshot-header.js';
import { FollowMount, withEveryEntry, type FollowMountTransfer } from './follow-mount.js';
import { parseFollowMountTransfer } from './follow-mount-transfer.js';
import type { FsBackend } from './fs-backend.js';
import { WasiExit, WasiHost } from './host.js';
import type { NnHost } from './nn/host.js';
import { parseNnState } from './nn/state.js';
import type { SocketHost, SocketRef } from './sockets.js';
import { spectestImports } from './spectest.js';
import { StateRefused } from './state-refused.js';
import { parseState } from './state-schema.js';
import { parseWasiState } from './state.js';

/** Storage identities of every node's mounts: node → guest path → id (equal ids: one folder). */
export type StorageIds = Record<string, Record<string, string>>;

export interface LibraryOsHostOptions {
  /** argv[0]. */
  programName: string;
  args: string[];
  env: string[];
  mounts: MountConfig[];
  stdout: (bytes: Uint8Array) => void;
  stderr: (bytes: Uint8Array) => void;
  stdin?: (maxBytes: number) => Uint8Array | null;
  sockets?: SocketHost;
  /** Pre-opened listeners (app.listen), for a program that starts here. */
  listeners?: SocketRef[];
  /** Carried along in snapshots; without them, `sameFolder` decides. */
  storage?: StorageIds;
  /** The folder of each mount on `node`, in order. */
  backends(node: string): FsBackend[];
  /** Whether the files of `mount` travel with the program. */
  followed(mount: MountConfig): boolean;
  /** Whether `mount` is one folder on `node` and `to`, when no storage identities are known. */
  sameFolder(mount: MountConfig, node: string, to: string): boolean;
  /** WASI-NN for a stretch on `node`; `readFile` reads the program's files (WasiHost.readFile). */
  nn(node: string, readFile: (path: string, maxBytes: number) => Uint8Array): NnHost;
}

const FOLLOW_RESOURCE = 'kafu.mounts';
const STORAGE_RESOURCE = 'kafu.storage';
export const NN_RESOURCE = 'kafu.nn';

export function libraryOsHost(opts: LibraryOsHostOptions): ProgramHost {
  const { mounts } = opts;
  return {
    createSystem(node, from) {
      try {
        // What the snapshot brings is checked whole before anything is written, even this node's folders (the
        // follow mounts and the WASI state are handed what came out of the check, and check their paths against
        // the disk as they apply them).
        const arriving = from && checkArrival(from, mounts, opts.followed);
        const backends = opts.backends(node);
        const follow = new Map<number, FollowMount>();
        mounts.forEach((m, i) => {
          if (!opts.followed(m)) return;
          const transfer = arriving?.transfers[m.guest];
          follow.set(i, new FollowMount(backends[i]!, node, transfer && from ? { transfer, blobs: from.blobs, mount: m.guest } : undefined));
        });
        const wasi = new WasiHost({
          args: [opts.programName, ...opts.args],
          env: opts.env,
          // A follow mount's program-facing backend records what the program changes.
          preopens: mounts.map((m, i) => ({ guestPath: m.guest, backend: follow.get(i)?.backend ?? backends[i]! })),
          stdout: opts.stdout,
          stderr: opts.stderr,
          stdin: opts.stdin,
          sockets: opts.sockets,
          // A resumed program brings its own (importState replaces these without closing them).
          listeners: from ? [] : opts.listeners,
        });
        if (arriving) wasi.importState(arriving.wasi);
        const nn = opts.nn(node, (path, max) => wasi.readFile(path, max));
        if (arriving?.nn !== undefined) nn.arrive(arriving.nn, from!.blobs);
        const storage = arriving?.storage ?? opts.storage;
        const sameStorage = (m: MountConfig, to: string): boolean => {
          if (!storage) return opts.sameFolder(m, node, to);
          const here = storage[node]?.[m.guest];
          return here !== undefined && here === storage[to]?.[m.guest];
        };
        return programSystem(wasi, nn, mounts, follow, sameStorage, storage);
      } catch (e) {
        if (e instanceof StateRefused) throw new SnapshotFormatError(e.message);
        throw e;
      }
    },
    exitCode: (e) => (e instanceof WasiExit ? e.code : undefined),
    selfContained(node, snapshot) {
      const transfers = snapshot.header.resources[FOLLOW_RESOURCE] as Record<string, unknown> | undefined;
      if (transfers === undefined) return snapshot;
      const blobs = [...snapshot.blobs];
      const backends = opts.backends(node);
      const whole: Record<string, FollowMountTransfer> = {};
      mounts.forEach((m, i) => {
        const t = transfers[m.guest];
        if (opts.followed(m) && t !== undefined) whole[m.guest] = withEveryEntry(t, blobs, backends[i]!, `follow mount ${m.guest}`);
      });
      const resources = { ...snapshot.header.resources, [FOLLOW_RESOURCE]: whole };
      return { ...snapshot, header: { ...snapshot.header, resources }, blobs };
    },
  };
}

/**
 * Run the checks an arriving snapshot goes through once on plain state, at node start: zod builds a schema's checks
 * on its first use, ~10 ms in all that would otherwise be part of the first hop's downtime.
 */
export function warmUpArrivalChecks(): void {
  warmUpHeaderCheck();
  const wasi = new WasiHost({ args: ['warm-up'], env: ['A=b'], preopens: [], stdout: () => {}, stderr: () => {} });
  parseWasiState(wasi.exportState(), []);
  parseState(resourcesSchema, { [STORAGE_RESOURCE]: { n: { '/': 'x' } } }, 'resources');
  wasi.release();
}

/** The resources this host reads from a snapshot (the follow mounts' transfers are checked one by one). */
const resourcesSchema = z.object({
  [FOLLOW_RESOURCE]: z.record(z.string(), z.unknown()).optional(),
  [STORAGE_RESOURCE]: z.record(z.string(), z.record(z.string(), z.string())).optional(),
});

/**
 * The parts of an arriving snapshot this host reads, their shapes checked before anything is restored; StateRefused
 * names the part and field.
 */
function checkArrival(from: SystemState, mounts: MountConfig[], followed: (m: MountConfig) => boolean) {
  const wasi = parseWasiState(from.wasi, mounts.map((m) => m.guest));
  const resources = parseState(resourcesSchema, from.resources, 'resources');
  const transfers: Record<string, FollowMountTransfer> = {};
  for (const m of mounts) {
    const t = resources[FOLLOW_RESOURCE]?.[m.guest];
    if (followed(m) && t !== undefined) transfers[m.guest] = parseFollowMountTransfer(t, from.blobs, `follow mount ${m.guest}`);
  }
  const storage: StorageIds | undefined = resources[STORAGE_RESOURCE];
  // WASI-NN's state too, before anything is written (the host parses it again as it arrives).
  const nn = (from.resources as Record<string, unknown> | undefined)?.[NN_RESOURCE];
  if (nn !== undefined) {
    try {
      parseNnState(nn, from.blobs);
    } catch (e) {
      throw new StateRefused((e as Error).message);
    }
  }
  return { wasi, transfers, storage, nn };
}

function programSystem(
  wasi: WasiHost,
  nn: NnHost,
  mounts: MountConfig[],
  follow: Map<number, FollowMount>,
  sameStorage: (m: MountConfig, to: string) => boolean,
  storage: StorageIds | undefined,
): NodeSystem {
  return {
    setMemory: (m) => {
      wasi.setMemory(m);
      nn.setMemory(m);
    },
    imports: () => wasi.imports(),
    importModules: () => ({ ...nn.importModules(), spectest: spectestImports(wasi) }),
    release: () => wasi.release(),
    migrationBlocker() {
      const blocker = wasi.migrationBlocker();
      if (blocker) return blocker;
      // A node-local mount is another folder on the next node: what is open in it cannot stay "the same bytes".
      for (const { fd, desc } of wasi.exportState().fds) {
        if (!('preopen' in desc)) continue; // stdio
        if (desc.kind === 'directory' && desc.preopenName !== null) continue; // the mount itself
        const mount = mounts[desc.preopen]!;
        if (mount.mode === 'node-local') {
          return `fd ${fd} (${joinGuest(mount.guest, desc.path)}, open on node-local mount ${mount.guest}; close it ` +
            `before the call that migrates, or make ${mount.guest} a follow mount so its files travel)`;
        }
      }
      return null;
    },
    exportState(to): SystemState {
      const blobs: Uint8Array[] = [];
      const transfers: Record<string, FollowMountTransfer> = {};
      for (const [i, fm] of follow) {
        const m = mounts[i]!;
        transfers[m.guest] = fm.depart(to, blobs, sameStorage(m, to));
      }
      const resources: Record<string, unknown> = { [FOLLOW_RESOURCE]: transfers, [NN_RESOURCE]: nn.depart(to, blobs) };
      if (storage) resources[STORAGE_RESOURCE] = storage;
      return { wasi: wasi.exportState(), resources, blobs };
    },
  };
}

function joinGuest(mount: string, path: string): string {
  if (path === '') return mount;
  return mount.endsWith('/') ? mount + path : `${mount}/${path}`;
}
