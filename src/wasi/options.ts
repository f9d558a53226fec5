// What a host gives the library OS: argv, environment, preopened directories, stdio callbacks, clocks and
// randomness. Nothing here touches the host platform directly, so a browser can provide all of it.

import type { FsBackend } from './fs-backend.js';
import type { SocketHost, SocketRef } from './sockets.js';

export interface Preopen {
  /** The name the guest sees, e.g. "/" or "/data". */
  guestPath: string;
  backend: FsBackend;
}

export interface WasiClocks {
  realtimeNs(): bigint;
  monotonicNs(): bigint;
}

export interface WasiOptions {
  /** argv; argv[0] is the program name. */
  args: string[];
  /** "KEY=VALUE" strings. */
  env: string[];
  /** Become fds 3, 4, ... in order. */
  preopens: Preopen[];
  stdout: (bytes: Uint8Array) => void;
  stderr: (bytes: Uint8Array) => void;
  /** Returns up to maxBytes of input; null or empty means end of input. */
  stdin?: (maxBytes: number) => Uint8Array | null;
  /** The host's sockets (none: a snapshot holding sockets is refused here). */
  sockets?: SocketHost;
  /** Pre-opened listening TCP sockets: the descriptors after the preopened folders, in order (need `sockets`). */
  listeners?: SocketRef[];
  clocks?: WasiClocks;
  randomFill?: (buf: Uint8Array) => void;
}

export const defaultClocks: WasiClocks = {
  realtimeNs: () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n,
  monotonicNs: () => BigInt(Math.round(performance.now() * 1e6)),
};

export function defaultRandomFill(buf: Uint8Array): void {
  const c = (globalThis as { crypto?: { getRandomValues(b: Uint8Array): Uint8Array } }).crypto;
  if (!c) throw new Error('no crypto.getRandomValues in this environment; pass WasiOptions.randomFill');
  // getRandomValues fills at most 65536 bytes per call.
  for (let off = 0; off < buf.length; off += 65536) c.getRandomValues(buf.subarray(off, Math.min(buf.length, off + 65536)));
}
