// The library OS's socket host (wasi/sockets.ts) on a Node thread that runs the program: each call goes, blocking,
// to the thread that holds the host sockets or relays to their home (sync-worker.ts), and its result comes back.
import { WasiError } from '../wasi/errno.js';
import { SocketLost, type RecvFlags, type SocketHost, type SocketReadiness, type SocketRef, type SocketWait } from '../wasi/sockets.js';
import type { ListenersOp, SocketOp, SocketResult } from './socket-messages.js';
import type { SyncCaller } from './sync-worker.js';

export class SyncSockets implements SocketHost {
  constructor(private readonly caller: Pick<SyncCaller, 'call'>) {}

  private call(op: SocketOp | ListenersOp, data?: Uint8Array): { result: SocketResult; data: Uint8Array | undefined } {
    const { answer, blobs } = this.caller.call<SocketResult>(op, data ? [data] : []);
    if (answer.errno !== 0) {
      const message = answer.message ?? `socket ${op.op}`;
      throw answer.lost ? new SocketLost(message) : new WasiError(answer.errno, message);
    }
    return { result: answer, data: blobs[0] };
  }

  accept(listener: SocketRef, nonblocking: boolean): SocketRef {
    const { result } = this.call({ op: 'accept', ...listener, nonblocking });
    return { home: listener.home, id: result.id!, seq: 0 };
  }

  recv(socket: SocketRef, maxBytes: number, flags: RecvFlags): Uint8Array {
    return this.call({ op: 'recv', ...socket, maxBytes, ...flags }).data ?? new Uint8Array();
  }

  send(socket: SocketRef, data: Uint8Array, nonblocking: boolean): number {
    return this.call({ op: 'send', ...socket, nonblocking }, data).result.count ?? 0;
  }

  shutdown(socket: SocketRef, how: number): void {
    this.call({ op: 'shutdown', ...socket, how });
  }

  close(socket: SocketRef): void {
    this.call({ op: 'close', ...socket });
  }

  poll(waits: SocketWait[], timeoutNs: bigint | null): SocketReadiness[] {
    const timeoutMs = timeoutNs === null ? -1 : Number((timeoutNs + 999_999n) / 1_000_000n);
    const { result } = this.call({ op: 'poll', waits: waits.map((w) => ({ home: w.ref.home, id: w.ref.id, write: w.write })), timeoutMs });
    return result.ready ?? [];
  }

  listeners(): Array<SocketRef | null> {
    return this.call({ op: 'listeners' }).result.listeners ?? [];
  }
}
