// The library OS of a browser tab: the engine-neutral host (wasi/program-host.ts) over in-memory folders, one per
// mount, kept for the tab's life (a follow mount's files arrive with the program, as on any node; a node-local
// mount is an empty folder of the tab's own). What a tab cannot do answers with an error code, never a crash:
// sockets (a program holding some passes through the tab with them, but every call there fails with ENOTSUP) and
// WASI-NN (unsupported_operation; a program holding graphs cannot come here).
import type { ProgramHost } from '../core/program.js';
import { Errno, WasiError } from '../wasi/errno.js';
import { MemoryFsBackend } from '../wasi/memory-fs.js';
import { NnHost } from '../wasi/nn/host.js';
import { NnError } from '../wasi/nn/types.js';
import { libraryOsHost, type LibraryOsHostOptions } from '../wasi/program-host.js';
import type { SocketHost } from '../wasi/sockets.js';

export type TabHostOptions = Pick<LibraryOsHostOptions, 'programName' | 'args' | 'env' | 'mounts' | 'stdout' | 'stderr'>;

const noSockets = (): never => {
  throw new WasiError(Errno.NOTSUP, 'sockets are not supported in a browser node');
};
const NO_SOCKETS: SocketHost = { accept: noSockets, recv: noSockets, send: noSockets, shutdown: noSockets, close: noSockets, poll: noSockets };

const noNn = (): never => {
  throw new NnError('unsupported_operation', 'WASI-NN is not supported in a browser node');
};

/** The tab's program host; its folders outlive each stretch of the program here. */
export function tabProgramHost(o: TabHostOptions): ProgramHost {
  const folders = o.mounts.map(() => new MemoryFsBackend());
  return libraryOsHost({
    programName: o.programName,
    args: o.args,
    env: o.env,
    mounts: o.mounts,
    stdout: o.stdout,
    stderr: o.stderr,
    sockets: NO_SOCKETS,
    backends: () => folders,
    followed: (m) => m.mode === 'follow',
    sameFolder: () => false, // no other node sees the tab's memory
    nn: (node, readFile) =>
      new NnHost({
        node,
        backend: { load: noNn, compute: noNn },
        store: { hash: noNn, put: noNn, get: () => undefined },
        named: () => undefined,
        namedOn: () => false,
        helper: { readFile, decodeImage: noNn },
      }),
  });
}
