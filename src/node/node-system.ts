// The library OS of a node process: the engine-neutral library-OS host (wasi/program-host.ts) over the node's real
// folders (one per mount) and its WASI-NN models.
import { mkdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { MountConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import type { ProgramHost } from '../core/program.js';
import { libraryOsHost, type StorageIds } from '../wasi/program-host.js';
import type { SocketHost, SocketRef } from '../wasi/sockets.js';
import { NodeFsBackend } from './fs-backend.js';
import { writeProgramStderr } from './stderr-line.js';
import { createLogger } from '../core/log.js';
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

export type { StorageIds };
export { NN_RESOURCE, warmUpArrivalChecks } from '../wasi/program-host.js';

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

export function nodeProgramHost(opts: NodeHostOptions): ProgramHost {
  const mounts = opts.mounts ?? [];
  const nnNode = opts.nn ?? new NodeNn(NO_NN_CONFIG, createLogger((l) => void process.stderr.write(l)));
  return libraryOsHost({
    programName: basename(opts.programName),
    args: opts.args,
    env: opts.env ?? [],
    mounts,
    stdout: opts.stdout ?? ((b: Uint8Array) => void process.stdout.write(b)),
    stderr: opts.stderr ?? writeProgramStderr,
    stdin: opts.stdin,
    sockets: opts.sockets,
    listeners: opts.listeners,
    storage: opts.storage,
    backends: (node) => mountDirs(mounts, node, opts.warn).map((dir) => new NodeFsBackend(dir)),
    followed: (m) => m.mode === 'follow' && !(opts.oneMachine && !m.host.includes('${node}')),
    sameFolder: (m, node, to) => mountDir(m, node) === mountDir(m, to), // one process, one machine
    nn: (node, readFile) => nnNode.host(node, readFile),
  });
}
