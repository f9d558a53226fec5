// The library OS of a node process: our WASI host over the node's real folders (one per mount), plus the mounts
// whose files follow the program. Builds the state a migration carries and restores it on arrival.
import { mkdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { MountConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import type { NodeSystem, ProgramHost, SystemState } from '../core/program.js';
import { z } from 'zod';
import { SnapshotFormatError } from '../core/snapshot.js';
import { warmUpHeaderCheck } from '../core/snapshot-header.js';
import { FollowMount, type FollowMountTransfer } from '../wasi/follow-mount.js';
import { parseFollowMountTransfer } from '../wasi/follow-mount-transfer.js';
import { parseWasiState, StateRefused, WasiExit, WasiHost } from '../wasi/index.js';
import type { SocketHost, SocketRef } from '../wasi/sockets.js';
import { parseState } from '../wasi/state-schema.js';
import { NodeFsBackend } from './fs-backend.js';
import { writeProgramStderr } from './stderr-line.js';
import { createLogger } from '../core/log.js';
import type { NnHost } from '../wasi/nn/host.js';
import { parseNnState } from '../wasi/nn/state.js';
import { spectestImports } from '../wasi/spectest.js';
import { NO_NN_CONFIG, NodeNn } from './node-nn.js';

export interface NodeHostOptions {
  programName: string;
  args: string[];
  env?: string[];
  /** Host folders absolute; `${node}` in a host path stands for the node id. */
  mounts?: MountConfig[];
  stdout?: (bytes: Uint8Array) => void;
  stderr?: (bytes: Uint8Array) => void;
  /** The program's standard input (default: none, end of input at once). */
  stdin?: (maxBytes: number) => Uint8Array | null;
  /**
   * All nodes run in this process on this machine (singlenode): a follow mount whose folder is the same for every
   * node needs no syncing.
   */
  oneMachine?: boolean;
  /**
   * Storage identities of every node's mounts (node → guest path → id, see `storageIdentity`), when the nodes
   * run in separate processes: a follow mount whose folder has the same identity on both ends of a hop is one
   * folder, so nothing is copied. Carried along in the snapshot.
   */
  storage?: StorageIds;
  /** wasi-nn models and backend of this process (default: no named models, warnings to stderr). */
  nn?: NodeNn;
  /** Told of each mount folder this host had to create. */
  warn?: (message: string) => void;
  /** The program's sockets: reached from this thread (sync-sockets.ts). */
  sockets?: SocketHost;
  /** Its pre-opened listeners (app.listen), for a program that starts here. */
  listeners?: SocketRef[];
}

export type StorageIds = Record<string, Record<string, string>>;

/**
 * The folder of each mount on `node`, created if missing; `warn` hears of each one created (a typo in the config
 * would otherwise give the program an empty folder without a word).
 */
export function mountDirs(mounts: MountConfig[], node: string, warn?: (message: string) => void): string[] {
  return mounts.map((m) => {
    const dir = mountDir(m, node);
    try {
      if (mkdirSync(dir, { recursive: true }) !== undefined && warn) {
        const key = m.guest === '/' ? 'app.preopened_dir' : 'the host of that mount in app.mounts';
        warn(`node ${node}: the folder ${dir} of mount ${m.guest} did not exist; created it empty (check ${key} for a typo)`);
      }
    } catch (e) {
      throw new UserError(`node ${node}: cannot create the folder ${dir} of mount ${m.guest}: ${(e as Error).message}`);
    }
    return dir;
  });
}

/** Which physical folder `dir` is: equal on two nodes only when both see the same folder of the same machine. */
export function storageIdentity(dir: string): string {
  const st = statSync(dir, { bigint: true });
  return `${hostname()}:${st.dev}:${st.ino}`;
}

/** The host folder of `mount` on `node`. */
export function mountDir(mount: MountConfig, node: string): string {
  return mount.host.replaceAll('${node}', node);
}

const FOLLOW_RESOURCE = 'kafu.mounts';
const STORAGE_RESOURCE = 'kafu.storage';
export const NN_RESOURCE = 'kafu.nn';

export function nodeProgramHost(opts: NodeHostOptions): ProgramHost {
  const stdout = opts.stdout ?? ((b: Uint8Array) => void process.stdout.write(b));
  const stderr = opts.stderr ?? writeProgramStderr;
  const mounts = opts.mounts ?? [];
  const nnNode = opts.nn ?? new NodeNn(NO_NN_CONFIG, createLogger((l) => void process.stderr.write(l)));
  return {
    createSystem(node, from) {
      const followed = (m: MountConfig) => m.mode === 'follow' && !(opts.oneMachine && !m.host.includes('${node}'));
      try {
        // What the snapshot brings is checked whole before anything is written, even this node's folders (the
        // follow mounts and the WASI state are handed what came out of the check, and check their paths against
        // the disk as they apply them).
        const arriving = from && checkArrival(from, mounts, followed);
        const backends = mountDirs(mounts, node, opts.warn).map((dir) => new NodeFsBackend(dir));
        const follow = new Map<number, FollowMount>();
        mounts.forEach((m, i) => {
          if (!followed(m)) return;
          const transfer = arriving?.transfers[m.guest];
          follow.set(i, new FollowMount(backends[i]!, node, transfer && from ? { transfer, blobs: from.blobs, mount: m.guest } : undefined));
        });
        const wasi = new WasiHost({
          args: [basename(opts.programName), ...opts.args],
          env: opts.env ?? [],
          // A follow mount's program-facing backend records what the program changes.
          preopens: mounts.map((m, i) => ({ guestPath: m.guest, backend: follow.get(i)?.backend ?? backends[i]! })),
          stdout,
          stderr,
          stdin: opts.stdin,
          sockets: opts.sockets,
          // A resumed program brings its own (importState replaces these without closing them).
          listeners: from ? [] : opts.listeners,
        });
        if (arriving) wasi.importState(arriving.wasi);
        const nn = nnNode.host(node, (path, max) => wasi.readFile(path, max));
        if (arriving?.nn !== undefined) nn.arrive(arriving.nn, from!.blobs);
        const storage = arriving?.storage ?? opts.storage;
        const sameStorage = (m: MountConfig, to: string): boolean => {
          if (!storage) return mountDir(m, node) === mountDir(m, to); // one process, one machine
          const here = storage[node]?.[m.guest];
          return here !== undefined && here === storage[to]?.[m.guest];
        };
        return nodeSystem(wasi, nn, node, mounts, follow, sameStorage, storage);
      } catch (e) {
        if (e instanceof StateRefused) throw new SnapshotFormatError(e.message);
        throw e;
      }
    },
    exitCode: (e) => (e instanceof WasiExit ? e.code : undefined),
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

function nodeSystem(
  wasi: WasiHost,
  nn: NnHost,
  node: string,
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
