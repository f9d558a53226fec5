// Host sockets for a program that runs on this process's main thread (`kafu run`, `kafu singlenode`): they live in a
// helper thread (socket-worker.ts) whose event loop keeps serving them while the program blocks in a WASI call.
// Every home is this process, so nothing is relayed.
import { UserError } from '../core/errors.js';
import type { SocketHost, SocketRef } from '../wasi/sockets.js';
import type { ListenersOp, SocketOp, SocketResult } from './socket-messages.js';
import { SyncSockets } from './sync-sockets.js';
import { SyncWorker } from './sync-worker.js';

export type HelperRequest = SocketOp | ListenersOp | { op: 'listen'; address: string; port: number } | { op: 'closeAll'; graceMs: number };

/** How long connections get to deliver what the program sent when it ends. */
export const CLOSE_GRACE_MS = 5000;

/** A listener to open: where, and what to call it in a message (`--tcplisten 127.0.0.1:8080`, `app.listen[0]`). */
export interface ListenSpec {
  home: string;
  address: string;
  port: number;
  what: string;
}

export class LocalSockets {
  private readonly worker = new SyncWorker(new URL('./socket-worker.js', import.meta.url));
  readonly host: SocketHost = new SyncSockets(this.worker);

  /** Open the listeners, in order; a refused one is a UserError naming it, with the fix. */
  listen(specs: ListenSpec[]): SocketRef[] {
    return specs.map((s) => {
      const { answer } = this.worker.call<SocketResult>({ op: 'listen', address: s.address, port: s.port } satisfies HelperRequest);
      if (answer.errno !== 0) throw new UserError(listenFailure(s, answer.message ?? 'EIO'));
      return { home: s.home, id: answer.id!, seq: 0 };
    });
  }

  /** Close every socket (connections deliver what was sent, for at most CLOSE_GRACE_MS) and stop the thread. */
  async close(): Promise<void> {
    this.worker.call({ op: 'closeAll', graceMs: CLOSE_GRACE_MS } satisfies HelperRequest);
    await this.worker.terminate();
  }
}

/** A listener that cannot be opened, as the cause and the fix. */
export function listenFailure(s: ListenSpec, code: string): string {
  return `${s.what}: cannot listen on ${s.address}:${s.port}: ${listenProblem(code, { port: 'choose another port', address: '0.0.0.0 listens on all of them' })}`;
}

/**
 * Why a port cannot be listened on, from the host's error code (or a message that names it), and the fix: `fix.port`
 * for a port in use, `fix.address` for an address that is not this machine's. One wording for the program's
 * listeners and a node's own gRPC port.
 */
export function listenProblem(codeOrMessage: string, fix: { port: string; address: string }): string {
  const code = /\b(EADDRINUSE|EADDRNOTAVAIL|EACCES|ENOTFOUND|EAI_AGAIN)\b/.exec(codeOrMessage)?.[1];
  if (code === 'EADDRINUSE') return `the port is in use by another process; stop it, or ${fix.port}`;
  if (code === 'EADDRNOTAVAIL') return `that address is not one of this machine's (${fix.address})`;
  if (code === 'EACCES') return 'permission denied (ports below 1024 need privileges)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'no such host';
  return codeOrMessage;
}
