// Sockets as the library OS sees them: references to host sockets that stay on their *home* node, and the
// synchronous interface through which the program reaches them wherever it runs. The library OS holds no socket
// state of its own beyond the reference (home node + handle id) and the descriptor's flags, so a migration carries
// nothing else: bytes wait at the home until the program asks for them, and nothing is ever in flight when the
// program stops (every call has returned).
import { Errno, WasiError } from './errno.js';

/**
 * A host socket: the node that holds it and its handle there (unguessable: it is also the capability to use it),
 * and how many calls the program made on it so far. The home counts them too: a call whose number is not the next
 * one comes from a program set back to an earlier state (a checkpoint continued after its node died), which would
 * receive or send bytes a second time, so the home resets the socket instead (SocketLost).
 */
export interface SocketRef {
  home: string;
  id: string;
  /** Calls made on it (poll excepted, which changes nothing). */
  seq: number;
}

export interface RecvFlags {
  peek: boolean;
  waitAll: boolean;
  nonblocking: boolean;
}

/** One thing poll_oneoff waits for on a socket. */
export interface SocketWait {
  ref: SocketRef;
  /** FD_WRITE (true) or FD_READ. */
  write: boolean;
}

export interface SocketReadiness {
  ready: boolean;
  /** Bytes that can be read (FD_READ) or written without blocking (FD_WRITE), as far as the home knows. */
  nbytes: number;
  /** The peer closed its side (FD_READ): reads return what is left, then 0. */
  hangup: boolean;
  /** Non-zero: the subscription fails with this errno (ECONNRESET for a socket whose home is gone). */
  errno: number;
}

/**
 * What the host gives the library OS for sockets. Every call blocks until done (or throws WasiError AGAIN for a
 * non-blocking socket). A host that lost the home of a socket throws SocketLost.
 */
export interface SocketHost {
  accept(listener: SocketRef, nonblocking: boolean): SocketRef;
  /** Up to `maxBytes` bytes; an empty array is the end of the stream. */
  recv(socket: SocketRef, maxBytes: number, flags: RecvFlags): Uint8Array;
  /** Bytes taken (all of them unless non-blocking). */
  send(socket: SocketRef, data: Uint8Array, nonblocking: boolean): number;
  /** `how`: 1 read side, 2 write side, 3 both. */
  shutdown(socket: SocketRef, how: number): void;
  close(socket: SocketRef): void;
  /** One result per wait, once any is ready or `timeoutNs` passed (null: no limit; 0: do not wait). */
  poll(waits: SocketWait[], timeoutNs: bigint | null): SocketReadiness[];
  /**
   * The pre-opened listeners as their homes hold them now, by index (null: not known here). A home that restarted
   * opened them again under new handles: a program arriving with the old ones is given these (same address and port).
   */
  listeners?(): Array<SocketRef | null>;
}

/**
 * The home of a socket is gone (its node died or restarted) or could not be reached during a call, which may or may
 * not have been carried out there: the socket can no longer be byte-exact and is reset for good (ECONNRESET).
 */
export class SocketLost extends WasiError {
  constructor(message: string) {
    super(Errno.CONNRESET, message);
    this.name = 'SocketLost';
  }
}

/** Most bytes one socket call carries between the program and a home: bounds each message of the relay. */
export const SOCKET_CHUNK = 1 << 20;

/** Handle ids: 32 lowercase hex digits (128 random bits). */
export const SOCKET_ID = /^[0-9a-f]{32}$/;
