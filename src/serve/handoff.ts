// Handing the program from one node to another: the sending side (`depart`: the program stopped here at a
// migration point) and the receiving side (`receiveProgram`: a Migrate call). The call completes only once the
// program runs on the receiver, so the sender knows the hop is done.
import * as grpc from '@grpc/grpc-js';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { UserError } from '../core/errors.js';
import type { Migration } from '../core/migration-stack.js';
import { describeMigration } from '../core/program.js';
import { ChecksumMismatchError, type FrameChecksum } from '../core/snapshot.js';
import { INITIAL_BASELINE_ID, maxTransferBytes, transferBaselineId } from '../core/transfer.js';
import { setHolder, type NodeContext } from './node-context.js';
import { bodyBytes, type MigrateBody } from './migrate-body.js';
import { savedProgramFile } from './saved-program.js';
import { BASELINE_MISSING, RpcRefusal, type MigrateReply, type MigrateStart, type OutputChunk } from './protocol.js';
import type { Encoded } from './worker-messages.js';
import { checkPrecopy, receivePrecopy } from './precopy.js';

/** The destination lacks the memory a delta is against: send the whole snapshot. */
class BaselineMissing extends Error {}

/** Send the program, stopped here and encoded by the worker (a delta when it could be), to `m.to`. */
export async function depart(ctx: NodeContext, m: Migration, suspendedAtMs: number, initial: Encoded): Promise<void> {
  const { state, log } = ctx;
  state.where = 'departing';
  log.info(describeMigration(m));
  const t0 = performance.now();
  const printedBefore = ctx.local.printed?.() ?? 0;
  // Output the program printed here travels ahead of it: the destination delivers it before resuming.
  const pendingOutput = await ctx.output.takePending();
  let encoded = initial;
  // A pre-copy round still on its way to `m.to` is what this hop is a delta against (precopy.ts).
  await ctx.precopy?.settled();
  // Held from now on: the program may come back (as a delta against it) before this hop's reply arrives.
  state.heldBaseline = encoded.baselineId;
  // From now on the program is `m.to`'s: it may even finish there before this hop's reply arrives (access.ts).
  setHolder(state, m.to);
  let reply: MigrateReply;
  try {
    try {
      reply = await sendProgram(ctx, m.to, describeMigration(m), suspendedAtMs, encoded, pendingOutput);
    } catch (e) {
      if (!(e instanceof BaselineMissing)) throw e;
      // It lacks the memory image the delta is against (restarted, a pre-copy round it refused), or a wasi-nn model
      // or follow-mount files it held (restarted, its folder emptied): the whole snapshot carries all of them.
      log.info(`sending the whole snapshot: ${e.message}`);
      encoded = await ctx.worker.encodeFull();
      state.heldBaseline = encoded.baselineId;
      reply = await sendProgram(ctx, m.to, describeMigration(m), suspendedAtMs, encoded, pendingOutput);
    }
  } catch (e) {
    // The program and the output it printed here that no node delivered yet go into the file together.
    throw await saveProgram(ctx, (e as Error).message, pendingOutput);
  }
  // The bytes are there: the worker makes its copy of the image it sent, held back so as not to slow them; the
  // buffer they were sent from goes back to it (its raw pages are that copy). Nothing here reads the body after.
  const { stats } = encoded;
  ctx.worker.departed(encoded);
  if (state.where === 'departing') {
    // (Unless the program already came back while the reply travelled: then it runs here again.)
    state.where = 'idle';
    // The worker keeps the program as it left (until it runs here again): the checkpoint of this hop.
    if (ctx.config.cluster.checkpoint === 'hops') state.checkpoint = { to: m.to, atMs: suspendedAtMs, printed: printedBefore };
  }
  log.debug(`hand-off to ${m.to}: encode ${stats.encodeMs.toFixed(1)} ms, transfer and resume ${(performance.now() - t0).toFixed(1)} ms (${ctx.peers.handoffTransport(m.to)})`);
  const kind = encoded.delta ? `delta: ${stats.pagesSent} pages changed` : `${stats.pagesSent} pages`;
  log.info(
    `Program moved to ${m.to}: ${formatBytes(stats.sentBytes)} sent (${kind}` +
      `${compressionNote(ctx.config.cluster.migration.memory_compression)}), downtime ${reply.downtimeMs.toFixed(1)} ms`,
  );
}

/** One Migrate call to `to`, retried while `to` is unreachable (up to the peer timeout). */
export function sendProgram(
  ctx: NodeContext,
  to: string,
  reason: string,
  suspendedAtMs: number,
  snapshot: { body: MigrateBody; snapshotId: string },
  output: OutputChunk[],
): Promise<MigrateReply> {
  const start: MigrateStart = {
    from: ctx.nodeId,
    to,
    moduleSha256: ctx.moduleSha256,
    reason,
    suspendedAtMs,
    totalBytes: snapshot.body.byteLength,
    snapshotId: snapshot.snapshotId,
    output,
  };
  return ctx.peers.retry(
    to,
    `migrating the program to ${to}`,
    {
      timeoutMs: ctx.peerTimeoutMs,
      attemptMs: 30_000 + snapshot.body.byteLength / 10_000, // ≥ 10 MB/s
      onFirstFailure: (why) => ctx.log.warn(`node ${to} is ${why}; waiting for it`),
      tellAfterMs: 1000,
    },
    (c, deadlineMs) =>
      ctx.peers.migrate(to, c, start, snapshot.body, deadlineMs).catch((e: { code?: number; details?: string }) => {
        // (Its message is the refusal's, for callers that cannot send a whole snapshot: a checkpoint already is one.)
        throw e.code === BASELINE_MISSING ? new BaselineMissing(`node ${to} refused the snapshot: ${e.details ?? 'it lacks what it is against'}`) : e;
      }),
  );
}

/**
 * The program, stopped here at a migration point, cannot be handed on: rather than lose it, write it (whole, with
 * `output`: what it printed that no node delivered yet) to a file that `kafu serve --resume` continues from once
 * the nodes are back (saved-program.ts). Returns the error to end the run with, naming the file. A folder that
 * cannot take the file (a full disk) is followed by the system's temporary folder; should no file be written, the
 * output is printed here rather than lost, and the error says so.
 */
export async function saveProgram(ctx: NodeContext, cause: string, output: OutputChunk[], skip = 0): Promise<Error> {
  const bytes = bodyBytes((await ctx.worker.encodeFull({ chunks: output, skip })).body);
  const problems: string[] = [];
  let file: string | undefined;
  for (const dir of new Set([ctx.saveDir, tmpdir()])) {
    const f = savedProgramFile(dir, ctx.config.name);
    try {
      writeFileSync(f, bytes);
      file = f;
      break;
    } catch (e) {
      rmSync(f, { force: true }); // a part of it would only be refused later
      problems.push(`${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      if (dir === ctx.saveDir) ctx.log.warn(`cannot save the program in ${dir} (${problems[0]}); trying ${tmpdir()}`);
    }
  }
  if (file === undefined) {
    for (const c of output) ctx.local.write(c.fd === 2 ? 2 : 1, c.data);
    return new UserError(`${cause}; the program could not be saved either (${problems.join('; ')}): it is lost`);
  }
  return new UserError(
    `${cause}. The program is saved in ${file}; start the nodes again and continue it with ` +
      `\`kafu serve --node-id ${ctx.first.id} --resume ${file} ${ctx.configFile}\``,
  );
}

/**
 * Whether this node takes a hand-off described by `start`: checked on the Migrate call's first message, before any
 * snapshot byte is kept, and again before the program is resumed. Throws the refusal; 'retry' for a snapshot this
 * node already resumed (a sender that lost our reply tries again: that is success).
 */
export function checkHandOff(ctx: NodeContext, start: MigrateStart): 'new' | 'retry' {
  checkIncoming(ctx, start);
  const { state, nodeId } = ctx;
  const refuse = (why: string, code = grpc.status.FAILED_PRECONDITION) => new RpcRefusal(code, why);
  if (start.snapshotId === state.lastSnapshotId && state.where !== 'idle') return 'retry';
  // Another hand-off is being resumed and may yet be refused (a hostile one must not make a real one fail): retry.
  if (state.resuming) throw refuse(`node ${nodeId} is resuming another hand-off`, grpc.status.UNAVAILABLE);
  // 'departing' is fine: our own hand-off's reply may still be on its way when the program comes back.
  if (state.where === 'running' || state.ending) {
    throw refuse(`node ${nodeId} is not idle (${state.ending ? 'shutting down' : 'the program is here'})`);
  }
  return 'new';
}

/** What any Migrate call's start must be (a hand-off's or a pre-copy round's): for this node, of its module, within its limits. */
export function checkIncoming(ctx: NodeContext, start: MigrateStart): void {
  const { nodeId, moduleSha256 } = ctx;
  const refuse = (why: string, code = grpc.status.FAILED_PRECONDITION) => new RpcRefusal(code, why);
  if (start.to !== nodeId) throw refuse(`this is node ${nodeId}, not ${start.to}`, grpc.status.INVALID_ARGUMENT);
  // (That the sender is a node of this cluster speaking for itself is access.ts's `admit`, called before this.)
  if (start.from === nodeId) throw refuse('a hand-off from this node itself', grpc.status.INVALID_ARGUMENT);
  if (start.moduleSha256 !== moduleSha256) {
    throw refuse(`node ${nodeId} runs module ${moduleSha256.slice(0, 12)}…, the snapshot is of ${String(start.moduleSha256).slice(0, 12)}…`);
  }
  const limit = maxTransferBytes(ctx.limits);
  if (!Number.isSafeInteger(start.totalBytes) || start.totalBytes <= 0) {
    throw refuse(`a snapshot of ${start.totalBytes} bytes`, grpc.status.INVALID_ARGUMENT);
  }
  if (start.totalBytes > limit) {
    throw refuse(
      `a snapshot of ${start.totalBytes} bytes is over this node's limit of ${limit} ` +
        `(the module's maximum memory and cluster.migration.max_state_mb)`,
      grpc.status.RESOURCE_EXHAUSTED,
    );
  }
}

/** Hand-offs whose bytes went to the worker as they arrived (streamHandOff), by their start message. */
const streamed = new WeakSet<MigrateStart>();

/**
 * A hand-off this node takes (checkHandOff said 'new'): each piece of its bytes moves to the worker as it arrives
 * (program-worker.ts resumeBegin, resumePiece), which decodes it and writes a first hop's pages while the rest is on
 * its way; receiveProgram ends it. Call with each piece once it is counted and checksummed: it takes the piece.
 */
export function streamHandOff(ctx: NodeContext, start: MigrateStart): (piece: Uint8Array) => true {
  return (piece) => {
    if (!streamed.has(start)) {
      streamed.add(start);
      // 'checked': receiveProgram checks the checksum (as the bytes arrive) before the worker's resumeEnd.
      if (start.precopy) ctx.worker.precopyBegin!(start.from, start.totalBytes, 'checked');
      else ctx.worker.resumeBegin(start.totalBytes, start.suspendedAtMs, 'checked');
    }
    ctx.worker.resumePiece(piece);
    return true;
  };
}

/** A streamed hand-off that ends without its last byte (refused, its sender gone): the worker drops what it has. */
export function dropHandOff(ctx: NodeContext, start: MigrateStart): void {
  if (streamed.delete(start)) ctx.worker.resumeAbort();
}

/**
 * A Migrate call, all its bytes received: check it, resume the program, answer once it runs. A snapshot that does
 * not decode or restore is refused with this node's state as it was: the program elsewhere is not affected.
 */
export async function receiveProgram(
  ctx: NodeContext,
  start: MigrateStart,
  data: Uint8Array[],
  received: number,
  checksum?: FrameChecksum,
): Promise<MigrateReply> {
  const { state, nodeId } = ctx;
  const refuse = (why: string, code: grpc.status) => new RpcRefusal(code, why);
  // Its bytes are in the worker already (streamHandOff), or here in `data`.
  const inWorker = streamed.delete(start);
  try {
    if ((start.precopy ? checkPrecopy(ctx, start) : checkHandOff(ctx, start)) === 'retry') {
      if (inWorker) ctx.worker.resumeAbort();
      return { downtimeMs: 0 };
    }
    if (received !== start.totalBytes) throw refuse(`received ${received} of ${start.totalBytes} snapshot bytes`, grpc.status.DATA_LOSS);
    if (checksum && !checksum.matches()) throw refuse(new ChecksumMismatchError().message, grpc.status.DATA_LOSS);
    if (inWorker && !checksum) throw refuse('a streamed hand-off without its checksum', grpc.status.INTERNAL);
    // (A streamed one's baseline is the worker's to check: it answers a delta against one it lacks with wholeNeeded.
    // So is a pre-copy round's.)
    let needs: string | undefined;
    try {
      needs = inWorker || start.precopy ? undefined : transferBaselineId(data, ctx.limits);
    } catch (e) {
      throw refuse((e as Error).message, grpc.status.INVALID_ARGUMENT);
    }
    // (Every node builds the module's initial image: a first hop to a node is a delta against it.)
    if (needs !== undefined && needs !== INITIAL_BASELINE_ID && needs !== state.heldBaseline) throw refuse(`no memory baseline ${needs}`, BASELINE_MISSING);
  } catch (e) {
    if (inWorker) ctx.worker.resumeAbort();
    throw e;
  }
  if (start.precopy) return receivePrecopy(ctx, start, data, inWorker, checksum);
  // Nothing of this node's state changes until the worker says the program runs (another hand-off meanwhile is told
  // to retry): a refused one leaves it as it was. Then the output that came with the program is delivered, before
  // anything it prints here.
  const outcome = ctx.onNextProgramEvent(() => {
    state.where = 'running';
    state.started = true;
    setHolder(state, nodeId);
    state.lastSnapshotId = start.snapshotId;
    state.checkpoint = undefined; // the worker dropped it: the program runs here
    for (const c of start.output) ctx.output.write(c.fd === 2 ? 2 : 1, c.data);
  });
  // The pieces, each the only bytes of its buffer (protocol.ts), move to the worker: not copied, not concatenated.
  if (inWorker) ctx.worker.resumeEnd();
  else ctx.worker.resume(data, start.suspendedAtMs, checksum ? 'checked' : 'check');
  state.resuming = true;
  const e = await outcome.finally(() => (state.resuming = false));
  // (The sender then sends a whole snapshot, which carries every model.)
  if (e.type === 'refused' && e.wholeNeeded) throw refuse(`node ${nodeId} could not resume the program: ${e.message}`, BASELINE_MISSING);
  if (e.type === 'refused' || e.type === 'failed') {
    throw refuse(
      `node ${nodeId} could not resume the program: ${e.message}`,
      e.type === 'refused' ? grpc.status.INVALID_ARGUMENT : grpc.status.FAILED_PRECONDITION,
    );
  }
  return { downtimeMs: e.type === 'resumed' ? e.downtimeMs : 0 };
}

function compressionNote(c: boolean | 'deflate'): string {
  return c === 'deflate' ? ', deflated' : c ? ', compressed' : '';
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`;
}
