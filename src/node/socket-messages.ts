// The socket operations a program makes, as one message shape for every hop they take: from the program's thread to
// the thread that holds (or relays to) the host sockets (sync-worker.ts), and from a node to a socket's home over
// the cluster's connection (the Socket call of proto/kafu.proto). Bytes travel beside the message (a blob), not in it.
import type { SocketReadiness, SocketRef } from '../wasi/sockets.js';

/** `seq`: the call's number on that socket (wasi/sockets.ts: SocketRef.seq). */
export type SocketOp =
  | { op: 'accept'; home: string; id: string; seq: number; nonblocking: boolean }
  /** Answered with the bytes as a blob (none: the end of the stream). */
  | { op: 'recv'; home: string; id: string; seq: number; maxBytes: number; peek: boolean; waitAll: boolean; nonblocking: boolean }
  /** The bytes go as a blob. */
  | { op: 'send'; home: string; id: string; seq: number; nonblocking: boolean }
  | { op: 'shutdown'; home: string; id: string; seq: number; how: number }
  | { op: 'close'; home: string; id: string; seq: number }
  /** `timeoutMs` -1: no limit. */
  | { op: 'poll'; waits: Array<{ home: string; id: string; write: boolean }>; timeoutMs: number };

export interface SocketResult {
  /** 0 or a WASI errno. */
  errno: number;
  /** Why, for errors. */
  message?: string;
  /** The home was lost (or the call to it failed): the socket is reset for good. */
  lost?: boolean;
  /** accept: the new connection's handle. */
  id?: string;
  /** send: bytes taken. */
  count?: number;
  /** poll: one per wait. */
  ready?: SocketReadiness[];
  /** listeners: by index, as their homes hold them now (null: not known). */
  listeners?: Array<SocketRef | null>;
}

/** From the program's thread only (never relayed): the pre-opened listeners as known now (SocketHost.listeners). */
export type ListenersOp = { op: 'listeners' };
