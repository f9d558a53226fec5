// The direct hand-off transport: a Migrate call (start message, snapshot bytes, reply) on a connection of its own to
// the node's port (node-listener.ts), without grpc-js. gRPC moved a first hop's bytes in HTTP/2 frames of 16 KiB, a
// JS callback and protobuf decoding each, reassembled into messages: most of a large hop's time. Here the sender
// writes the snapshot's Migrate messages as frames of 1 MiB (the worker left room for the frame header: migrate-body.ts,
// no copy), and the receiver copies what TLS gives it straight into batches of BATCH_BYTES that move to the
// program's thread as they are. One connection per peer, kept across hops: a small hop costs a write and a read.
//
// The receiving side keeps every rule of the gRPC path in the same place: MigrateIntake (start checked before any
// byte is kept, one hand-off at a time per node, no more than declared), the handlers (who may hand off, what is
// resumed), the stall limit (MIGRATE_STALL_MS) and the refusal codes. Frames are checked by FrameReader.
import * as grpc from '@grpc/grpc-js';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import {
  FrameError,
  FrameReader,
  FrameType,
  HANDOFF_ALPN,
  MAGIC,
  MagicPrefix,
  frame,
  parseRefusal,
  refusalFrame,
  type FrameSink,
} from './handoff-frames.js';
import { eachMessage, useHeads, type MigrateBody } from './migrate-body.js';
import {
  MIGRATE_STALL_MS,
  MigrateIntake,
  migrateStalled,
  RpcRefusal,
  migrateCodec,
  toServiceError,
  type KafuNodeHandlers,
  type MigrateReply,
  type MigrateStart,
  type ReceiveSlot,
} from './protocol.js';
import { tlsClientOptions, type NodeTls } from './tls.js';

/** Received bytes move to the program's thread in pieces of this size (the last one shorter): ≥ 1 MiB, few messages. */
export const BATCH_BYTES = 4 << 20;

/**
 * Hand-off connections a node keeps open at once. Each peer keeps one (and one being replaced); past this, the one
 * idle longest is closed for a new one, so that a member opening connections cannot crowd out the others, nor hold
 * more than this many partial start frames (each ends after MIGRATE_STALL_MS without bytes).
 */
export const MAX_HANDOFF_CONNECTIONS = 32;

/** A node's side of the transport: its accepted connections (node-listener.ts), served with `h` and the node's receive slot. */
export class HandoffServer {
  private readonly open = new Map<Socket, { idle: () => boolean; since: number }>();

  constructor(
    private readonly h: KafuNodeHandlers,
    private readonly slot: ReceiveSlot,
  ) {}

  /** Serve hand-offs on `socket` until it closes. `caller`: the node its certificate proves (as protocol.ts's callerOf). */
  accept(socket: Socket, caller: string | undefined): void {
    if (this.open.size >= MAX_HANDOFF_CONNECTIONS) {
      const idle = [...this.open].filter(([, c]) => c.idle()).sort((a, b) => a[1].since - b[1].since)[0];
      if (!idle) return void socket.destroy();
      idle[0].destroy();
      this.open.delete(idle[0]);
    }
    const conn = { idle: () => true, since: Date.now() };
    this.open.set(socket, conn);
    socket.on('close', () => this.open.delete(socket));
    conn.idle = serveHandoffConnection(socket, caller, this.h, this.slot, () => (conn.since = Date.now()));
  }
}

/**
 * Serve hand-offs on one accepted connection until it closes; `active` is told of every byte. Returns whether the
 * connection is idle (between hand-offs, no frame begun).
 */
function serveHandoffConnection(socket: Socket, caller: string | undefined, h: KafuNodeHandlers, slot: ReceiveSlot, active: () => void): () => boolean {
  // The magic back once it is read: the sender then knows this port speaks the transport (a plaintext port of an
  // older node answers HTTP/2).
  const magic = new MagicPrefix(() => socket.write(MAGIC));
  let intake: MigrateIntake | undefined;
  /** The batch being filled, and how much of it is. */
  let batch: Uint8Array | undefined;
  let batchHave = 0;
  let closed = false;
  /** A hand-off's bytes are all here and its answer is not sent yet. */
  let answering = false;
  /**
   * Ends a hand-off under way, or a frame begun, that sends nothing for MIGRATE_STALL_MS (the receive slot freed).
   * One timer, pushed back on each chunk (`refresh`): a first hop of 64 MiB arrives in ~4 000 TLS chunks, and a new
   * timer per chunk cost the receiving thread 3-15 ms of it.
   */
  let stall: ReturnType<typeof setTimeout> | undefined;
  const unwatch = () => {
    clearTimeout(stall);
    stall = undefined;
  };

  const fresh = () => new MigrateIntake(h, caller, slot);
  const flush = () => {
    if (!batch || !intake) return;
    // A batch is exactly as long as its bytes unless the sender sent fewer than it declared (then refused anyway).
    intake.add(batchHave === batch.byteLength ? batch : batch.slice(0, batchHave), true);
    batch = undefined;
    batchHave = 0;
  };
  /** Refuse what this connection is doing and close it: nothing of it stays. */
  const refuse = (e: unknown) => {
    if (closed) return;
    closed = true;
    unwatch();
    intake?.drop();
    intake = undefined;
    batch = undefined;
    const { code, details } = toServiceError(e instanceof FrameError ? new RpcRefusal(grpc.status.INVALID_ARGUMENT, e.message) : e);
    socket.end(refusalFrame(code ?? grpc.status.INTERNAL, details ?? ''));
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  const sink: FrameSink = {
    header(type, length) {
      if (type === FrameType.DATA) (intake ??= fresh()).announce(length);
    },
    data(bytes) {
      for (let at = 0; at < bytes.byteLength; ) {
        // (announce made sure that these bytes are within what the start message declared)
        batch ??= new Uint8Array(Math.min(BATCH_BYTES, intake!.remaining()));
        const n = Math.min(batch.byteLength - batchHave, bytes.byteLength - at);
        batch.set(bytes.subarray(at, at + n), batchHave);
        batchHave += n;
        at += n;
        if (batchHave === batch.byteLength) flush();
      }
    },
    frame(type, payload) {
      if (type === FrameType.START) {
        (intake ??= fresh()).begin(migrateCodec.decodeStart(payload));
        return;
      }
      // END: every byte is here (or the sender says so): the handler resumes the program and answers.
      flush();
      const ending = intake ?? fresh();
      intake = undefined;
      unwatch();
      const reply = ending.end();
      answering = true;
      reply
        .then(
          (r) => void (closed || socket.write(frame(FrameType.REPLY, migrateCodec.encodeReply(r)))),
          (e: unknown) => {
            const { code, details } = toServiceError(e);
            if (!closed) socket.write(refusalFrame(code ?? grpc.status.INTERNAL, details ?? ''));
          },
        )
        .finally(() => (answering = false));
    },
  };
  const reader = new FrameReader(sink, [FrameType.START, FrameType.DATA, FrameType.END]);
  const watch = () => {
    if (!intake?.receiving() && reader.idle()) unwatch();
    else if (stall) stall.refresh();
    else stall = setTimeout(() => refuse(migrateStalled()), MIGRATE_STALL_MS);
  };
  socket.on('data', (chunk: Buffer) => {
    if (closed) return;
    active();
    try {
      const at = magic.skip(chunk);
      if (at < chunk.byteLength) reader.push(at === 0 ? chunk : chunk.subarray(at));
      watch();
    } catch (e) {
      refuse(e);
    }
  });
  const gone = () => {
    // The sender gave up or vanished: it will retry the whole transfer.
    closed = true;
    unwatch();
    intake?.drop();
    intake = undefined;
  };
  socket.on('error', gone);
  socket.on('close', gone);
  socket.resume();
  // (A hand-off being resumed, its reply not sent yet, is not idle.)
  return () => !intake && reader.idle() && !answering;
}

/**
 * Write `frames` one after the other, each once the one before is out (writes queued behind a pending one reach TLS
 * together (writev), which copies them all into one buffer first), then `last`. `frames` may still be coming (a
 * body whose parts the worker is copying: each is written as it comes). Resolves once `last` is written or queued; a
 * failed write ends the connection (its 'error').
 */
async function send(socket: Socket, frames: AsyncIterable<Uint8Array>, last: Uint8Array): Promise<void> {
  for await (const f of frames) {
    if (socket.destroyed) return;
    const ok = await new Promise<boolean>((resolve) => socket.write(f, (e) => resolve(!e)));
    if (!ok) return;
  }
  if (!socket.destroyed) socket.write(last);
}

/** The start frame, then the body's messages as DATA frames, each as soon as it is here. */
async function* frames(head: Uint8Array, body: MigrateBody): AsyncGenerator<Uint8Array> {
  yield head;
  for await (const m of eachMessage(body)) {
    useHeads({ messages: [m] }, 'frames');
    yield m;
  }
}

/** A hand-off this small goes in one write. */
const SMALL_BYTES = 256 << 10;

/** A gRPC-style error (peers.ts retries on its code as on a gRPC call's). `refusal`: the peer's answer, not the connection's end. */
const rpcError = (code: grpc.status, details: string, refusal = false) => Object.assign(new Error(details), { code, details, refusal });

/** The peer's port does not speak the direct transport (a node of an older version): send with gRPC instead. */
export class HandoffUnsupported extends Error {}

interface Connection {
  socket: Socket;
  /** Settled by the next REPLY or REFUSAL, or by the connection's end. */
  answer?: { resolve: (r: MigrateReply) => void; reject: (e: Error) => void };
  dead: boolean;
  /** It carried a hand-off already (reused: it may have been closed by the peer meanwhile). */
  used: boolean;
}

/** The sending side, for one peer: one connection, kept open across hand-offs and made again when it closed. */
export class HandoffClient {
  private connection: Promise<Connection> | undefined;
  /** Hand-offs go one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly nodeId: string,
    private readonly tls: NodeTls | undefined,
  ) {}

  /** Connect now (the first hand-off then does not wait for the handshake); failures are left to the first hand-off. */
  connect(): void {
    this.connected(30_000).catch(() => undefined);
  }

  /**
   * Hand `body` (the snapshot as Migrate messages) to the peer; resolves with its reply, rejects with a gRPC-style
   * error (its refusal, or UNAVAILABLE / DEADLINE_EXCEEDED) or HandoffUnsupported.
   */
  migrate(start: MigrateStart, body: MigrateBody, o: { deadlineMs: number }): Promise<MigrateReply> {
    const run = async () => {
      const until = Date.now() + o.deadlineMs;
      try {
        return await this.attempt(start, body, until);
      } catch (e) {
        // A kept connection the peer closed since (it restarted): once more on a new one.
        if ((e as { stale?: boolean }).stale) return this.attempt(start, body, until);
        throw e;
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  close(): void {
    void this.connection?.then((c) => c.socket.destroy(), () => undefined);
    this.connection = undefined;
  }

  private async attempt(start: MigrateStart, body: MigrateBody, until: number): Promise<MigrateReply> {
    const c = await this.connected(until - Date.now());
    const reused = c.used;
    c.used = true;
    return new Promise<MigrateReply>((resolve, reject) => {
      let sent = false;
      // Answered before every frame is written (a refusal of the start): the rest must not follow a later hand-off's
      // start on this connection, so it ends here.
      const settled = () => {
        clearTimeout(timer);
        if (!sent) {
          c.dead = true;
          c.socket.destroy();
        }
      };
      const timer = setTimeout(() => {
        c.socket.destroy();
        reject(rpcError(grpc.status.DEADLINE_EXCEEDED, `no answer within ${Math.round((until - Date.now()) / 1000)} s`));
      }, Math.max(0, until - Date.now()));
      c.answer = {
        resolve: (r) => {
          settled();
          resolve(r);
        },
        reject: (e) => {
          settled();
          const { code, refusal } = e as { code?: number; refusal?: boolean };
          reject(reused && !refusal && code === grpc.status.UNAVAILABLE ? Object.assign(e, { stale: true }) : e);
        },
      };
      const [head, end] = [frame(FrameType.START, migrateCodec.encodeStart(start)), frame(FrameType.END)];
      // A small hand-off in one write (one TLS record, one read on the other side): its copy costs less than the turns.
      // (A small body comes whole: the worker sends its first part at once, and parts are larger than this.)
      const small = body.byteLength <= SMALL_BYTES && !body.tail;
      if (small) useHeads(body, 'frames');
      const written = small ? send(c.socket, (async function* () {})(), Buffer.concat([head, ...body.messages, end])) : send(c.socket, frames(head, body), end);
      void written.then(() => (sent = true));
    });
  }

  private connected(ms: number): Promise<Connection> {
    const existing = this.connection;
    if (existing) {
      return existing.then(
        (c) => (c.dead ? this.open(ms) : c),
        () => this.open(ms),
      );
    }
    return this.open(ms);
  }

  private open(ms: number): Promise<Connection> {
    const p = new Promise<Connection>((resolve, reject) => {
      const socket: Socket = this.tls
        ? tlsConnect({ host: this.host, port: this.port, ...tlsClientOptions(this.tls, this.nodeId, [HANDOFF_ALPN, 'h2']) })
        : netConnect({ host: this.host, port: this.port });
      const c: Connection = { socket, dead: false, used: false };
      let up = false;
      const timer = setTimeout(() => {
        socket.destroy();
        fail(rpcError(grpc.status.DEADLINE_EXCEEDED, `no connection within ${Math.round(ms / 1000)} s`));
      }, Math.max(0, ms));
      const fail = (e: Error) => {
        clearTimeout(timer);
        c.dead = true;
        const answer = c.answer;
        c.answer = undefined;
        answer?.reject(e);
        if (!up) reject(e);
      };
      socket.once(this.tls ? 'secureConnect' : 'connect', () => {
        if (this.tls && (socket as TLSSocket).alpnProtocol !== HANDOFF_ALPN) {
          socket.destroy();
          return fail(new HandoffUnsupported(`node ${this.nodeId} does not speak ${HANDOFF_ALPN}`));
        }
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 10_000);
        socket.write(MAGIC);
      });
      const reader = new FrameReader(
        {
          header: () => undefined,
          data: () => undefined,
          frame: (type, payload) => {
            const answer = c.answer;
            c.answer = undefined;
            if (!answer) throw new FrameError('an answer to no hand-off');
            if (type === FrameType.REPLY) answer.resolve(migrateCodec.decodeReply(payload));
            else {
              const { code, details } = parseRefusal(payload);
              answer.reject(rpcError(code, details, true));
            }
          },
        },
        [FrameType.REPLY, FrameType.REFUSAL],
      );
      const magic = new MagicPrefix(() => {
        clearTimeout(timer);
        up = true;
        resolve(c);
      });
      socket.on('data', (chunk: Buffer) => {
        let at: number;
        try {
          at = magic.skip(chunk);
        } catch {
          socket.destroy();
          return fail(new HandoffUnsupported(`node ${this.nodeId} does not speak the hand-off transport`));
        }
        try {
          if (at < chunk.byteLength) reader.push(at === 0 ? chunk : chunk.subarray(at));
        } catch (e) {
          socket.destroy();
          fail(rpcError(grpc.status.INTERNAL, `node ${this.nodeId} answered a hand-off with ${(e as Error).message}`));
        }
      });
      socket.on('error', (e: NodeJS.ErrnoException) => fail(rpcError(grpc.status.UNAVAILABLE, e.code ?? e.message)));
      socket.on('close', () => fail(rpcError(grpc.status.UNAVAILABLE, 'the connection closed')));
    });
    this.connection = p;
    return p;
  }
}
