// The library OS of a node process: our WASI host over the real filesystem, with output to this process.
import { basename } from 'node:path';
import type { ProgramHost } from '../core/program.js';
import { WasiExit, WasiHost } from '../wasi/index.js';
import { NodeFsBackend } from './fs-backend.js';

export interface NodeHostOptions {
  programName: string;
  args: string[];
  env?: string[];
  /** Host folder preopened as the guest's "/". */
  preopenedDir?: string;
  stdout?: (bytes: Uint8Array) => void;
  stderr?: (bytes: Uint8Array) => void;
}

export function nodeProgramHost(opts: NodeHostOptions): ProgramHost {
  const stdout = opts.stdout ?? ((b: Uint8Array) => void process.stdout.write(b));
  const stderr = opts.stderr ?? ((b: Uint8Array) => void process.stderr.write(b));
  return {
    createSystem(_node, state) {
      const host = new WasiHost({
        args: [basename(opts.programName), ...opts.args],
        env: opts.env ?? [],
        preopens: opts.preopenedDir ? [{ guestPath: '/', backend: new NodeFsBackend(opts.preopenedDir) }] : [],
        stdout,
        stderr,
      });
      if (state !== undefined) host.importState(state as Parameters<WasiHost['importState']>[0]);
      return host;
    },
    exitCode: (e) => (e instanceof WasiExit ? e.code : undefined),
  };
}
