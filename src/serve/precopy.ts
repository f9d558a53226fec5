// Pre-copy on a node's main thread (the worker's side is precopy-rounds.ts). Sending: each round the worker posts
// goes to the peer as a Migrate call whose start says `precopy` (the same transports, intake, limits and checks as a
// hop's bytes); its answer is written into the worker's ACKED slot, a refusal or failure into STOPPED (pre-copy is
// then over for the run: the hop goes as it did without it). Before a hop the main thread waits for the round in
// flight: the hop is a delta against it. Receiving: a round is taken only by a node whose worker keeps an instance
// the program never ran in (the worker checks that too), and kept there as the baseline of the first hop.
import * as grpc from '@grpc/grpc-js';
import type { KafuConfig } from '../core/config.js';
import type { KafuMetadata } from '../core/metadata.js';
import type { FrameChecksum } from '../core/snapshot.js';
import { checkIncoming } from './handoff.js';
import type { NodeContext } from './node-context.js';
import { BodyTail, bodyParts, type MigrateBody } from './migrate-body.js';
import { RpcRefusal, type MigrateReply, type MigrateStart } from './protocol.js';
import { ACKED, CONTROL_SLOTS, DUE, STOPPED } from './precopy-rounds.js';
import type { FromWorker, PrecopySetup } from './worker-messages.js';

/**
 * The node this node pre-copies the program to (cluster.migration.precopy): the one named, or with `auto` the one
 * KAFU_DEST node other than this one when there is exactly one; none for `off`, with forced migrations (they go
 * round robin), whole-memory migrations (no deltas), or toward a browser node (a tab takes no rounds).
 */
export function precopyTarget(config: KafuConfig, meta: KafuMetadata, nodeId: string, forced: boolean): string | undefined {
  const m = config.cluster.migration;
  if (m.precopy === 'off' || forced || m.memory_migration !== 'delta') return undefined;
  const candidates = m.precopy === 'auto' ? [...new Set(meta.points.map((p) => p.node))].filter((n) => n !== nodeId) : [m.precopy];
  const to = candidates.length === 1 ? candidates[0]! : undefined;
  return to === undefined || to === nodeId || config.nodes.find((n) => n.id === to)?.browser ? undefined : to;
}

export function precopySetup(config: KafuConfig, to: string): PrecopySetup {
  const m = config.cluster.migration;
  return { to, afterMs: m.precopy_after_ms, intervalMs: m.precopy_interval_ms, control: new SharedArrayBuffer(4 * CONTROL_SLOTS) };
}

type Round = Extract<FromWorker, { type: 'precopyRound' }>;
/** A round's body is copied into messages this many bytes at a time. */
const PART_BYTES = 4 << 20;

/** The sending side: sends the worker's rounds to `setup.to`, one at a time. */
export class PrecopyLink {
  private readonly control: Int32Array;
  private inFlight: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ctx: () => NodeContext,
    readonly setup: PrecopySetup,
  ) {
    this.control = new Int32Array(setup.control);
  }

  /** The worker's next step is due in `ms`: the DUE slot it reads at the program's WASI calls is set then. */
  wake(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => Atomics.store(this.control, DUE, 1), ms);
    this.timer.unref();
  }

  /**
   * A round the worker posted: its chunks are copied into the messages sent here, off the program's thread, a part at
   * a time between other work (each part sent as soon as it is copied, as a hop's are).
   */
  send(round: Round): void {
    const ctx = this.ctx();
    const { to } = this.setup;
    const parts = bodyParts(round.chunks, PART_BYTES, undefined, undefined, true);
    const first = parts.next();
    const body: MigrateBody = { messages: first.done ? [] : first.value.messages, byteLength: round.chunks.reduce((n, c) => n + c.byteLength, 0) };
    const tail = (body.tail = new BodyTail(body));
    const more = () => {
      const p = parts.next();
      tail.add(p.done ? [] : p.value.messages, p.done === true);
      if (!p.done) setImmediate(more);
    };
    setImmediate(more);
    const start: MigrateStart = {
      from: ctx.nodeId,
      to,
      moduleSha256: ctx.moduleSha256,
      reason: `pre-copy round ${round.seq}`,
      suspendedAtMs: 0,
      totalBytes: body.byteLength,
      snapshotId: round.imageId,
      output: [],
      precopy: true,
    };
    const t0 = performance.now();
    // One attempt: a round is worth nothing late, and the hop does without it.
    this.inFlight = ctx.peers
      .migrate(to, ctx.peers.client(to), start, body, 30_000 + body.byteLength / 10_000)
      .then(
        () => {
          Atomics.store(this.control, ACKED, round.seq);
          Atomics.store(this.control, DUE, 1);
          ctx.log.debug(`pre-copy round ${round.seq} sent to ${to}: ${round.pages} pages, ${body.byteLength} bytes in ${(performance.now() - t0).toFixed(1)} ms`);
        },
        (e: { details?: string; message?: string }) => {
          Atomics.store(this.control, STOPPED, 1);
          Atomics.store(this.control, DUE, 1);
          ctx.log.debug(`pre-copy to ${to} stopped: round ${round.seq} failed: ${e.details ?? e.message}`);
        },
      );
  }

  /** Before a hop: the round in flight has arrived (or failed), so the hop can be a delta against it. */
  async settled(): Promise<void> {
    await this.inFlight;
  }
}

/** Whether this node takes a pre-copy round (`start.precopy`): the same checks as a hand-off's start, then its own. */
export function checkPrecopy(ctx: NodeContext, start: MigrateStart): 'new' {
  checkIncoming(ctx, start);
  const { state, nodeId } = ctx;
  const refuse = (why: string) => new RpcRefusal(grpc.status.FAILED_PRECONDITION, why);
  if (!ctx.worker.precopy || !ctx.worker.precopyBegin) throw refuse(`node ${nodeId} takes no pre-copy rounds (a browser node)`);
  if (state.where !== 'idle' || state.ending || state.resuming) {
    throw refuse(`node ${nodeId} is not idle (${state.ending ? 'shutting down' : 'the program is here'})`);
  }
  return 'new';
}

/** A pre-copy round, all its bytes received and checked: the worker keeps it (or refuses it). */
export async function receivePrecopy(ctx: NodeContext, start: MigrateStart, data: Uint8Array[], inWorker: boolean, checksum?: FrameChecksum): Promise<MigrateReply> {
  const outcome = ctx.onNextProgramEvent();
  if (inWorker) ctx.worker.resumeEnd();
  else ctx.worker.precopy!(start.from, data, checksum ? 'checked' : 'check');
  const e = await outcome;
  if (e.type !== 'precopied') {
    const why = e.type === 'refused' || e.type === 'failed' ? e.message : `unexpected ${e.type}`;
    throw new RpcRefusal(grpc.status.FAILED_PRECONDITION, `node ${ctx.nodeId} refused the pre-copy round: ${why}`);
  }
  return { downtimeMs: 0 };
}
