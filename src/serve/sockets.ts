// The program's sockets on a `kafu serve` node. Host sockets stay on their home node (app.listen's `node`, and every
// connection accepted there): this node holds its own (NetSockets) and carries out on them what the program asks,
// from its worker thread when the program runs here (no relay), or over the Socket call when it runs elsewhere. The
// program's socket calls arrive from the worker thread synchronously (sync-worker.ts: the worker blocks, this main
// thread answers) and go to the socket's home: this node, or another over the cluster's connection.
//
// A call that cannot reach the home (it died, or the connection broke mid-call) resets that socket for the program
// (ECONNRESET from then on): whether the home carried it out is unknown, so the stream can no longer be byte-exact.
// A call the home's access check refused was not carried out: it is asked again (for at most --peer-timeout).
import * as grpc from '@grpc/grpc-js';
import type { MessagePort } from 'node:worker_threads';
import { z } from 'zod';
import type { ListenConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { CLOSE_GRACE_MS, listenFailure } from '../node/local-sockets.js';
import { NetSockets } from '../node/net-sockets.js';
import type { ListenersOp, SocketOp, SocketResult } from '../node/socket-messages.js';
import { serveSync, syncChannel } from '../node/sync-worker.js';
import { Errno } from '../wasi/errno.js';
import { SOCKET_CHUNK, SOCKET_ID, type SocketReadiness, type SocketRef } from '../wasi/sockets.js';
import type { Peers } from './peers.js';
import { describeRpcError, RpcRefusal, type SocketReply, type SocketRequest } from './protocol.js';

/** Most waits in one poll (a program polls at most as many sockets as it holds). */
const MAX_WAITS = 1 << 16;
/** First wait before asking a home again that refused a call before carrying it out (doubling, up to 1 s). */
const REFUSED_BACKOFF_MS = 25;
/** How long a blocking call may wait at the home: as long as the program wants (no deadline). */
const BLOCKING_DEADLINE_MS = Infinity;

type Answer = { result: SocketResult; data?: Uint8Array };

export class NodeSockets {
  private readonly net = new NetSockets();
  /** Listener handles per home node, in app.listen order (the first node learns the others' in Hello). */
  private readonly listenerIds = new Map<string, string[]>();
  private readonly channel = syncChannel();
  private stopServing: (() => void) | undefined;

  constructor(
    private readonly nodeId: string,
    private readonly listen: ListenConfig[],
    private readonly peers: Peers,
    private readonly log: Logger,
    private readonly peerTimeoutMs: number,
  ) {}

  /** The worker's end of the channel (WorkerSetup.sockets): transfer its port to the worker. */
  get workerEnd(): { port: MessagePort; flag: Int32Array } {
    return this.channel.caller;
  }

  /** Open this node's listeners (a refused one is a UserError naming it) and start answering the worker. */
  async start(): Promise<void> {
    const mine: string[] = [];
    for (const [i, l] of this.listen.entries()) {
      if (l.node !== this.nodeId) continue;
      const spec = { home: l.node, address: l.address, port: l.port, what: `app.listen[${i}] (node ${l.node})` };
      try {
        mine.push(await this.net.listen(l.address, l.port));
      } catch (e) {
        throw new UserError(listenFailure(spec, (e as NodeJS.ErrnoException).code ?? (e as Error).message));
      }
      this.log.info(`Listening on ${l.address}:${l.port} for the program (app.listen[${i}])`);
    }
    this.listenerIds.set(this.nodeId, mine);
    this.stopServing = serveSync(this.channel.served, async (op: SocketOp | ListenersOp, blobs) => {
      if (op.op === 'listeners') return { answer: { errno: 0, listeners: this.listenersNow() } satisfies SocketResult };
      const a = await this.route(op, blobs[0]);
      return { answer: a.result, blobs: a.data ? [a.data] : [] };
    });
  }

  /** This node's listener handles, for the first node's Hello. */
  ownListeners(): string[] {
    return this.listenerIds.get(this.nodeId) ?? [];
  }

  /** The listener handles `node` holds now (the first node: told in Hello replies; a follower: in the first node's Hello). */
  learn(node: string, ids: string[]): void {
    const expected = this.listen.filter((l) => l.node === node).length;
    if (ids.length !== expected || !ids.every((id) => SOCKET_ID.test(id))) {
      throw new RpcRefusal(grpc.status.INVALID_ARGUMENT, `node ${node} tells ${ids.length} listener handles for its ${expected} entries of app.listen, or one is not a handle`);
    }
    if (node !== this.nodeId) this.listenerIds.set(node, ids);
  }

  /**
   * The program's listeners as their homes hold them now, in app.listen order, as far as this node knows: its own
   * (always), and the ones it learned (the first node: every node's, in Hello; a follower: the first node's).
   */
  private listenersNow(): Array<SocketRef | null> {
    const next = new Map<string, number>();
    return this.listen.map((l) => {
      const k = next.get(l.node) ?? 0;
      next.set(l.node, k + 1);
      const id = this.listenerIds.get(l.node)?.[k];
      return id === undefined ? null : { home: l.node, id, seq: 0 };
    });
  }

  /** First node: the program's listeners, in app.listen order. */
  listeners(): SocketRef[] {
    return this.listenersNow().map((ref, i) => {
      const l = this.listen[i]!;
      if (!ref) throw new UserError(`app.listen[${i}]: node ${l.node} did not say it listens on ${l.address}:${l.port}`);
      return ref;
    });
  }

  /** A Socket call from the node that runs the program (access.ts admitted it): checked, then carried out here. */
  async serveRemote(req: SocketRequest, cancelled: AbortSignal): Promise<Partial<SocketReply>> {
    const op = parseRequest(req, this.nodeId);
    const { result, data } = await this.net.handle(op, op.op === 'send' ? req.data : undefined, cancelled);
    return { ...result, message: result.message ?? '', data: data ?? new Uint8Array() };
  }

  /** Close every socket, letting connections deliver what the program sent (at most CLOSE_GRACE_MS). */
  async close(): Promise<void> {
    this.stopServing?.();
    await this.net.closeAll(CLOSE_GRACE_MS);
  }

  private route(op: SocketOp, data: Uint8Array | undefined): Promise<Answer> {
    if (op.op === 'poll') return this.poll(op).then((ready) => ({ result: { errno: 0, ready } }));
    return this.at(op.home, op, data);
  }

  /** `op` carried out at `home`: here, or relayed. */
  private async at(home: string, op: SocketOp, data: Uint8Array | undefined, signal?: AbortSignal): Promise<Answer> {
    if (home === this.nodeId) return this.net.handle(op, data, signal);
    const blocking = op.op === 'poll' ? op.timeoutMs !== 0 : 'nonblocking' in op && !op.nonblocking;
    const refusedUntil = Date.now() + this.peerTimeoutMs;
    for (let backoff = REFUSED_BACKOFF_MS; ; backoff = Math.min(backoff * 2, 1000)) {
      try {
        const client = this.peers.client(home);
        // A blocking call has no deadline (keepalive ends it if the connection dies): it starts only on a
        // connection that is up within --peer-timeout, or the home counts as gone.
        if (blocking) await client.ready(this.peerTimeoutMs);
        if (signal?.aborted) return { result: { errno: Errno.INTR, message: 'cancelled' } };
        const r = await client.socket(
          toRequest(this.nodeId, op, data),
          { deadlineMs: blocking ? BLOCKING_DEADLINE_MS : this.peerTimeoutMs },
          signal,
        );
        return {
          result: { errno: r.errno, message: r.message, lost: r.lost, id: r.id, count: r.count, ready: r.ready },
          data: op.op === 'recv' ? r.data : undefined,
        };
      } catch (e) {
        if (signal?.aborted) return { result: { errno: Errno.INTR, message: 'cancelled' } };
        const why = `socket ${op.op} at node ${home}: ${describeRpcError(e)}`;
        // Refused by the access check, before anything was done: the home may not know yet that the program moved
        // on (it still hands it to the node this one got it from). Asked again, not reset.
        if ((e as { code?: number }).code === grpc.status.PERMISSION_DENIED && Date.now() + backoff < refusedUntil) {
          this.log.debug(`${why}; asking again in ${backoff} ms`);
          await new Promise((r) => setTimeout(r, backoff));
          continue;
        }
        this.log.warn(`${why}; the program's socket is reset`);
        return { result: { errno: Errno.CONNRESET, lost: true, message: why } };
      }
    }
  }

  /**
   * Waits on sockets of one home go there whole. Over several homes: a look at each without waiting, then a wait
   * at each until the first answers (the others are cancelled).
   */
  private async poll(op: Extract<SocketOp, { op: 'poll' }>): Promise<SocketReadiness[]> {
    const byHome = new Map<string, number[]>();
    op.waits.forEach((w, i) => byHome.set(w.home, [...(byHome.get(w.home) ?? []), i]));
    const out: SocketReadiness[] = op.waits.map(() => ({ ready: false, nbytes: 0, hangup: false, errno: 0 }));
    const ask = async (home: string, idx: number[], timeoutMs: number, signal?: AbortSignal) => {
      const { result } = await this.at(home, { op: 'poll', waits: idx.map((i) => op.waits[i]!), timeoutMs }, undefined, signal);
      if (result.errno === Errno.INTR) return false;
      idx.forEach((i, k) => (out[i] = result.ready?.[k] ?? { ready: false, nbytes: 0, hangup: false, errno: result.errno || Errno.CONNRESET }));
      return idx.some((i) => out[i]!.ready || out[i]!.errno !== 0);
    };
    const homes = [...byHome];
    if (homes.length === 1) {
      await ask(homes[0]![0], homes[0]![1], op.timeoutMs);
      return out;
    }
    const now = await Promise.all(homes.map(([h, idx]) => ask(h, idx, 0)));
    if (now.some(Boolean) || op.timeoutMs === 0) return out;
    const ac = new AbortController();
    await Promise.race(homes.map(([h, idx]) => ask(h, idx, op.timeoutMs, ac.signal)));
    ac.abort();
    return out;
  }
}

function toRequest(from: string, op: SocketOp, data: Uint8Array | undefined): Partial<SocketRequest> {
  switch (op.op) {
    case 'poll':
      return { from, op: 'poll', waits: op.waits.map((w) => ({ id: w.id, write: w.write })), timeoutMs: op.timeoutMs };
    case 'recv':
      return { from, op: 'recv', id: op.id, seq: op.seq, maxBytes: op.maxBytes, peek: op.peek, waitAll: op.waitAll, nonblocking: op.nonblocking };
    case 'send':
      return { from, op: 'send', id: op.id, seq: op.seq, nonblocking: op.nonblocking, data: data ?? new Uint8Array() };
    case 'accept':
      return { from, op: 'accept', id: op.id, seq: op.seq, nonblocking: op.nonblocking };
    case 'shutdown':
      return { from, op: 'shutdown', id: op.id, seq: op.seq, how: op.how };
    case 'close':
      return { from, op: 'close', id: op.id, seq: op.seq };
  }
}

const handle = z.string().regex(SOCKET_ID, 'not a socket handle');
const seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const requestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('accept'), id: handle, seq, nonblocking: z.boolean() }),
  z.object({
    op: z.literal('recv'), id: handle, seq, maxBytes: z.number().int().min(1).max(SOCKET_CHUNK), peek: z.boolean(), waitAll: z.boolean(), nonblocking: z.boolean(),
  }),
  z.object({ op: z.literal('send'), id: handle, seq, nonblocking: z.boolean(), data: z.instanceof(Uint8Array).refine((d) => d.byteLength <= SOCKET_CHUNK, 'over 1 MiB') }),
  z.object({ op: z.literal('shutdown'), id: handle, seq, how: z.number().int().min(1).max(3) }),
  z.object({ op: z.literal('close'), id: handle, seq }),
  z.object({
    op: z.literal('poll'),
    waits: z.array(z.object({ id: handle, write: z.boolean() })).min(1).max(MAX_WAITS),
    timeoutMs: z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER),
  }),
]);

/** A Socket request as an operation on this node's sockets, or INVALID_ARGUMENT naming the field. */
function parseRequest(req: SocketRequest, home: string): SocketOp {
  const r = requestSchema.safeParse(req);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new RpcRefusal(grpc.status.INVALID_ARGUMENT, `Socket ${JSON.stringify(String(req.op).slice(0, 20))}: ${i.path.join('.') || 'op'}: ${i.message}`);
  }
  const o = r.data;
  if (o.op === 'poll') return { op: 'poll', waits: o.waits.map((w) => ({ home, id: w.id, write: w.write })), timeoutMs: o.timeoutMs };
  if (o.op === 'send') return { op: 'send', home, id: o.id, seq: o.seq, nonblocking: o.nonblocking };
  return { ...o, home } as SocketOp;
}
