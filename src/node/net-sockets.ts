// The host sockets of one node: real listening servers (net.Server) and the connections they accepted (net.Socket),
// by handle id, and the socket operations of the program carried out on them, asynchronously. They live as long as
// the node process, not as long as the program's stay on the node: the program reaches them from wherever it runs.
//
// Flow control is the streams' own: a connection's incoming bytes wait in its readable buffer (at most
// READ_BUFFER_BYTES; beyond it Node stops reading, and TCP's window stops the client), and a send waits for 'drain'
// once the writable buffer is over its high-water mark. Nothing is read ahead for the program.
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Errno, errnoFromCode } from '../wasi/errno.js';
import type { SocketReadiness } from '../wasi/sockets.js';
import type { SocketOp, SocketResult } from './socket-messages.js';

/** Per connection, incoming bytes held for the program at most (then the client waits). */
const READ_BUFFER_BYTES = 256 * 1024;
/** Connections waiting for accept at most, per listener (the backlog): more are refused. */
const MAX_PENDING = 1024;

interface Listener {
  kind: 'listener';
  seq: number;
  server: Server;
  /** Connections not accepted yet: already watched, so nothing they do before accept is missed. */
  pending: Connection[];
}

interface Connection {
  kind: 'stream';
  /** The number of the program's last call on it (wasi/sockets.ts: SocketRef.seq). */
  seq: number;
  socket: Socket;
  /** The peer's FIN was read (after every byte before it). */
  eof: boolean;
  /** The error that ended the connection (ECONNRESET, EPIPE …). */
  error: string | undefined;
  readShut: boolean;
  writeShut: boolean;
}

type Entry = Listener | Connection;

const ok = (r: Omit<SocketResult, 'errno'> = {}): { result: SocketResult } => ({ result: { errno: 0, ...r } });
const err = (errno: number, message: string): { result: SocketResult } => ({ result: { errno, message } });

export class NetSockets {
  private readonly entries = new Map<string, Entry>();
  private waiters = new Set<() => void>();

  /** Open a listener on `address`:`port`; its handle. Rejects with the host's error (its `code`: EADDRINUSE …). */
  listen(address: string, port: number): Promise<string> {
    const server = createServer({ allowHalfOpen: true, highWaterMark: READ_BUFFER_BYTES });
    const id = newId();
    const listener: Listener = { kind: 'listener', seq: 0, server, pending: [] };
    server.on('connection', (socket) => {
      if (listener.pending.length >= MAX_PENDING) return void socket.destroy();
      listener.pending.push(this.watch(socket));
      this.notify();
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        this.entries.set(id, listener);
        resolve(id);
      });
    });
  }

  /** Carry out `op` (its `home` is this node); `data`: send's bytes. Never rejects: errors are results. */
  async handle(op: SocketOp, data: Uint8Array | undefined, signal?: AbortSignal): Promise<{ result: SocketResult; data?: Uint8Array }> {
    if (op.op === 'poll') return ok({ ready: await this.poll(op.waits, op.timeoutMs, signal) });
    const e = this.entries.get(op.id);
    // A handle this node does not hold: it restarted since (or the handle is made up).
    if (!e) return { result: { errno: Errno.CONNRESET, lost: true, message: `socket ${op.id.slice(0, 8)}… is not open on this node` } };
    // Not the next call: the program was set back to an earlier state (a checkpoint), and would receive or send
    // bytes a second time. The socket cannot be byte-exact for it any more: reset it.
    if (op.seq !== e.seq + 1) {
      this.entries.delete(op.id);
      if (e.kind === 'listener') closeListener(e);
      else e.socket.destroy();
      this.notify();
      return { result: { errno: Errno.CONNRESET, lost: true, message: `socket ${op.id.slice(0, 8)}…: call ${op.seq} after call ${e.seq} (the program was set back): reset` } };
    }
    e.seq = op.seq;
    switch (op.op) {
      case 'accept': {
        if (e.kind !== 'listener') return err(Errno.INVAL, 'accept on a connection');
        while (e.pending.length === 0) {
          if (op.nonblocking) return err(Errno.AGAIN, 'no connection waiting');
          if (!(await this.changed(-1, signal))) return err(Errno.INTR, 'cancelled');
          if (this.entries.get(op.id) !== e) return err(Errno.BADF, 'the listener was closed');
        }
        const id = newId();
        this.entries.set(id, e.pending.shift()!);
        return ok({ id });
      }
      case 'recv':
        if (e.kind !== 'stream') return err(Errno.NOTCONN, 'recv on a listener');
        return this.recv(e, op, signal);
      case 'send':
        if (e.kind !== 'stream') return err(Errno.NOTCONN, 'send on a listener');
        return this.send(e, data ?? new Uint8Array(), op.nonblocking, signal);
      case 'shutdown':
        if (e.kind !== 'stream') return err(Errno.NOTCONN, 'shutdown on a listener');
        if (op.how & 1) e.readShut = true;
        if (op.how & 2 && !e.writeShut) {
          e.writeShut = true;
          e.socket.end();
        }
        this.notify();
        return ok();
      case 'close':
        this.entries.delete(op.id);
        if (e.kind === 'listener') closeListener(e);
        else closeGracefully(e.socket);
        this.notify();
        return ok();
    }
  }

  /** Close everything, letting connections flush what the program sent (at most `graceMs`). */
  async closeAll(graceMs: number): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.notify();
    const closing: Promise<void>[] = [];
    for (const e of all) {
      if (e.kind === 'listener') closeListener(e);
      else closing.push(new Promise((r) => (closeGracefully(e.socket), e.socket.once('close', () => r()))));
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closing), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    for (const e of all) if (e.kind === 'stream') e.socket.destroy();
  }

  private watch(socket: Socket): Connection {
    const c: Connection = { kind: 'stream', seq: 0, socket, eof: false, error: undefined, readShut: false, writeShut: false };
    socket.on('readable', () => {
      // A FIN with nothing buffered: reading is what makes the stream say 'end'.
      if (socket.readableLength === 0) socket.read(0);
      this.notify();
    });
    socket.on('end', () => {
      c.eof = true;
      this.notify();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      c.error ??= e.code ?? 'EIO';
      this.notify();
    });
    socket.on('drain', () => this.notify());
    socket.on('close', () => this.notify());
    return c;
  }

  private async recv(
    c: Connection,
    op: Extract<SocketOp, { op: 'recv' }>,
    signal: AbortSignal | undefined,
  ): Promise<{ result: SocketResult; data?: Uint8Array }> {
    const got: Buffer[] = [];
    let have = 0;
    for (;;) {
      const s = c.socket;
      const available = s.readableLength;
      if (c.readShut) break;
      if (available > 0) {
        if (op.peek) {
          // Wait for all (MSG_WAITALL) only as far as the buffer can hold.
          if (op.waitAll && available < Math.min(op.maxBytes, READ_BUFFER_BYTES) && !c.eof && !c.error) {
            if (!(await this.changed(-1, signal))) return err(Errno.INTR, 'cancelled');
            continue;
          }
          const b = s.read(Math.min(op.maxBytes, available)) as Buffer;
          s.unshift(b);
          return { result: { errno: 0 }, data: b };
        }
        const b = s.read(Math.min(op.maxBytes - have, available)) as Buffer | null;
        if (b) {
          got.push(b);
          have += b.length;
        }
        if (!op.waitAll || have >= op.maxBytes) break;
        continue;
      }
      // Reading what is there does not make a stream notice the FIN behind it; a read of nothing does ('end').
      s.read(0);
      if (c.eof || (have > 0 && !op.waitAll)) break;
      if (c.error) {
        if (have > 0) break;
        return err(errnoFromCode(c.error), `connection: ${c.error}`);
      }
      if (s.destroyed) break;
      if (op.nonblocking && have === 0) return err(Errno.AGAIN, 'no data waiting');
      if (!(await this.changed(-1, signal))) return err(Errno.INTR, 'cancelled');
    }
    return { result: { errno: 0 }, data: got.length === 1 ? got[0]! : Buffer.concat(got) };
  }

  private async send(c: Connection, data: Uint8Array, nonblocking: boolean, signal: AbortSignal | undefined): Promise<{ result: SocketResult }> {
    const s = c.socket;
    if (c.error) return err(c.error === 'ECONNRESET' ? Errno.CONNRESET : Errno.PIPE, `connection: ${c.error}`);
    if (c.writeShut || s.writableEnded || s.destroyed) return err(Errno.PIPE, 'the sending side is shut down');
    if (nonblocking && s.writableNeedDrain) return err(Errno.AGAIN, 'the send buffer is full');
    // A copy: `data` may be a view of a buffer the caller reuses once this returns (sync-worker.ts's arena), and a
    // write that cannot go out at once keeps a reference to its bytes, not a copy, until it does.
    const fits = s.write(Buffer.from(data));
    // Blocking: return once the bytes are within the buffer's limit, as a kernel's send() would.
    while (!fits && !nonblocking && s.writableNeedDrain && !s.destroyed && !c.error) {
      if (!(await this.changed(-1, signal))) break;
    }
    return ok({ count: data.length });
  }

  private async poll(waits: Array<{ id: string; write: boolean }>, timeoutMs: number, signal: AbortSignal | undefined): Promise<SocketReadiness[]> {
    const deadline = timeoutMs < 0 ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const states = waits.map((w) => this.readiness(w.id, w.write));
      const left = deadline - Date.now();
      if (states.some((r) => r.ready || r.errno !== 0) || left <= 0 || signal?.aborted) return states;
      await this.changed(left === Infinity ? -1 : left, signal);
    }
  }

  private readiness(id: string, write: boolean): SocketReadiness {
    const e = this.entries.get(id);
    if (!e) return { ready: false, nbytes: 0, hangup: false, errno: Errno.CONNRESET };
    if (e.kind === 'listener') return { ready: !write && e.pending.length > 0, nbytes: write ? 0 : e.pending.length, hangup: false, errno: 0 };
    const s = e.socket;
    if (write) {
      const broken = e.error !== undefined || e.writeShut || s.destroyed;
      return { ready: broken || !s.writableNeedDrain, nbytes: Math.max(0, s.writableHighWaterMark - s.writableLength), hangup: false, errno: e.error ? errnoFromCode(e.error) : 0 };
    }
    const n = s.readableLength;
    if (n === 0) s.read(0); // notice a FIN behind bytes read before (see recv)
    return {
      ready: n > 0 || e.eof || e.readShut || e.error !== undefined || s.destroyed,
      nbytes: e.readShut ? 0 : n,
      hangup: e.eof,
      errno: n === 0 && e.error ? errnoFromCode(e.error) : 0,
    };
  }

  /** Resolves true at the next change of any socket, false on timeout (ms, -1: none) or abort. */
  private changed(timeoutMs: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (v: boolean) => {
        this.waiters.delete(wake);
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        resolve(v);
      };
      const wake = () => done(true);
      const aborted = () => done(false);
      this.waiters.add(wake);
      // (setTimeout takes at most 2^31-1 ms; a longer wait is waited again by the caller, which keeps its deadline.)
      if (timeoutMs >= 0) timer = setTimeout(() => done(false), Math.min(timeoutMs, 2 ** 31 - 1));
      signal?.addEventListener('abort', aborted);
    });
  }

  private notify(): void {
    const all = this.waiters;
    this.waiters = new Set();
    for (const w of all) w();
  }
}

function closeListener(l: Listener): void {
  l.server.close();
  for (const c of l.pending) c.socket.destroy();
  l.pending.length = 0;
}

/**
 * As close() on a kernel socket: what was sent is still delivered, then FIN. What arrives meanwhile is read and
 * dropped (unread bytes at close would make the kernel answer with a reset).
 */
function closeGracefully(s: Socket): void {
  s.on('data', () => undefined);
  s.resume();
  s.end(() => s.destroy());
}

function newId(): string {
  return randomBytes(16).toString('hex');
}
