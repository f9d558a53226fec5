// The other nodes of the cluster as this node sees them: one gRPC client each (and one direct hand-off connection:
// handoff-transport.ts), and retries with backoff for peers that are not up yet or restarting (a pod being
// rescheduled), bounded so that nothing waits forever.
import type { NodeConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { HandoffClient, HandoffUnsupported } from './handoff-transport.js';
import { wholeBody, type MigrateBody } from './migrate-body.js';
import { KafuNodeClient, describeRpcError, isTransient, type MigrateReply, type MigrateStart } from './protocol.js';
import type { NodeTls } from './tls.js';

export interface RetryOptions {
  /** Give up after this long (ms) of failed attempts. */
  timeoutMs: number;
  /** Deadline of one attempt (ms). */
  attemptMs: number;
  /** Told once, at the first failure, so that a wait is visible. */
  onFirstFailure?: (why: string) => void;
  /**
   * Tell onFirstFailure only once failures have lasted this long (default 0: at once). A peer whose connection is
   * still backing off from before it started (every node opens its connections at start, in any order) answers
   * the next retry; that is not worth a warning.
   */
  tellAfterMs?: number;
}

export class Peers {
  private readonly clients = new Map<string, KafuNodeClient>();
  private readonly handoffs = new Map<string, HandoffClient>();
  /** Peers handed programs with gRPC's Migrate: those whose port does not speak the direct transport, or all (KAFU_HANDOFF=grpc). */
  private readonly grpcHandoff = new Set<string>();
  private readonly allGrpc = process.env.KAFU_HANDOFF === 'grpc';

  constructor(
    readonly self: string,
    readonly nodes: NodeConfig[],
    private readonly log: Logger,
    private readonly tls: NodeTls | undefined,
  ) {}

  /** Every node but this one, in config order. */
  others(): NodeConfig[] {
    return this.nodes.filter((n) => n.id !== this.self);
  }

  where(id: string): string {
    const n = this.node(id);
    return `${n.address}:${n.port}`;
  }

  client(id: string): KafuNodeClient {
    let c = this.clients.get(id);
    // A connection that failed earlier (the peer was not up yet when this node started) waits out gRPC's reconnect
    // backoff, failing every call meanwhile: a call that needs the peer now starts a fresh connection instead. The
    // old one closes once its calls settle (a waitForReady call queued on it waits for its own deadline).
    if (c?.backingOff()) {
      c.retire();
      c = undefined;
    }
    if (!c) {
      c = new KafuNodeClient(this.where(id), id, this.tls);
      this.clients.set(id, c);
    }
    return c;
  }

  /**
   * One attempt to hand a program (`start`, `body`) to node `id`: over the direct transport, or with gRPC's Migrate
   * (`c`) where the peer's port does not speak it. Fails as a gRPC call would (retry decides on its code).
   */
  async migrate(id: string, c: KafuNodeClient, start: MigrateStart, body: MigrateBody, deadlineMs: number): Promise<MigrateReply> {
    if (!this.allGrpc && !this.grpcHandoff.has(id)) {
      try {
        return await this.handoff(id).migrate(start, body, { deadlineMs });
      } catch (e) {
        if (!(e instanceof HandoffUnsupported)) throw e;
        this.log.debug(`${e.message}: handing programs to it with gRPC`);
        this.grpcHandoff.add(id);
      }
    }
    // (gRPC's Migrate writes every message at once: the body's parts still being copied are waited for.)
    return c.migrate(start, await wholeBody(body), { deadlineMs });
  }

  /** How programs go to node `id` (for logs). */
  handoffTransport(id: string): 'direct' | 'gRPC' {
    return this.allGrpc || this.grpcHandoff.has(id) ? 'gRPC' : 'direct';
  }

  private handoff(id: string): HandoffClient {
    let h = this.handoffs.get(id);
    if (!h) {
      const n = this.node(id);
      h = new HandoffClient(n.address, n.port, id, this.tls);
      this.handoffs.set(id, h);
    }
    return h;
  }

  /**
   * Call `fn` on node `id` until it answers; transient failures (unreachable, no answer in time) are retried with
   * backoff 200 ms → 2 s until `timeoutMs`, any other gRPC status is final: both throw a UserError naming the
   * node. Errors that are not gRPC statuses (the caller's own) pass through unchanged.
   */
  async retry<T>(id: string, what: string, o: RetryOptions, fn: (c: KafuNodeClient, deadlineMs: number) => Promise<T>): Promise<T> {
    const started = Date.now();
    const until = started + o.timeoutMs;
    let backoff = 200;
    let told = false;
    for (;;) {
      try {
        return await fn(this.client(id), o.attemptMs);
      } catch (e) {
        if (typeof (e as { code?: unknown }).code !== 'number') throw e;
        const why = describeRpcError(e);
        if (!isTransient(e)) throw new UserError(`${what}: node ${id} (${this.where(id)}) refused: ${why}`);
        if (Date.now() + backoff > until) {
          throw new UserError(`${what}: node ${id} (${this.where(id)}) is ${why}; gave up after ${Math.round(o.timeoutMs / 1000)} s`);
        }
        if (!told && Date.now() - started >= (o.tellAfterMs ?? 0)) {
          told = true;
          o.onFirstFailure?.(why);
        }
        this.log.debug(`${what}: node ${id}: ${why}; retrying in ${backoff} ms`);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(2000, backoff * 2);
      }
    }
  }

  /** Open the connections to every other node now, so that the first migration does not pay for them. */
  connectAll(): void {
    for (const n of this.others()) {
      this.client(n.id).connect();
      if (!this.allGrpc) this.handoff(n.id).connect();
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    for (const h of this.handoffs.values()) h.close();
    this.handoffs.clear();
  }

  private node(id: string): NodeConfig {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`kafu: unknown node ${id}`);
    return n;
  }
}
