// The worker thread of a node: runs the program's stretches on this node. Receives a start or a snapshot,
// runs until the program ends or calls for another node, then encodes the snapshot for the wire. Keeps the
// memory image of the last hop as the baseline for page deltas.
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../core/errors.js';
import { GuestInstance, GuestModule } from '../core/guest.js';
import { createLogger, parseLevel } from '../core/log.js';
import { runSegment, type SegmentResult } from '../core/program.js';
import { PAGE_SIZE, type ChecksumMode, type Snapshot } from '../core/snapshot.js';
import { INITIAL_BASELINE_ID, MissingBaselineError, TransferReceiver, encodeTransfer, ownBaseline, type Baseline, type SentPages, type DecodedTransfer } from '../core/transfer.js';
import { asTrap, wasmBacktrace } from '../core/trap.js';
import { MESSAGE_HEAD_BYTES, bodyParts, buffersOf, type BodyPart } from './migrate-body.js';
import { NodeNn } from '../node/node-nn.js';
import { NN_RESOURCE, nodeProgramHost, warmUpArrivalChecks, type StorageIds } from '../node/node-system.js';
import { NodeStateLostError } from '../wasi/node-state-lost.js';
import { readProcessStdin } from '../node/stdin.js';
import { withSavedOutput, type SavedOutput } from './saved-program.js';
import { SyncSockets } from '../node/sync-sockets.js';
import { SyncCaller } from '../node/sync-worker.js';
import type { SocketRef } from '../wasi/sockets.js';
import { workerStdin } from './stdin-buffer.js';
import { PrecopySender } from './precopy-rounds.js';
import type { Encoded, FromWorker, ToWorker, WorkerSetup } from './worker-messages.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
const log = createLogger((line) => post({ type: 'log', line }), parseLevel(setup.logLevel), setup.logPrefix);

// One per process: the models this node holds outlive each stretch of the program here.
const nn = new NodeNn(setup.nn, log);

// The program's sockets, wherever their home: through the main thread (serve/sockets.ts).
const sockets = setup.sockets && new SyncSockets(new SyncCaller(setup.sockets.port, setup.sockets.flag));

/** `storage` and `listeners` are given at the start; a resumed program brings them in its snapshot. */
const hostWith = (storage: StorageIds, listeners?: SocketRef[]) =>
  nodeProgramHost({
    programName: setup.where,
    args: setup.args,
    env: setup.env,
    mounts: setup.mounts,
    nn,
    storage,
    // Copies: the bytes are views of guest memory, which the program goes on writing.
    stdout: (b) => post({ type: 'output', fd: 1, data: b.slice() }),
    stderr: (b) => post({ type: 'output', fd: 2, data: b.slice() }),
    stdin: setup.stdin ? workerStdin(setup.stdin, (maxBytes) => post({ type: 'stdin', maxBytes })) : readProcessStdin,
    sockets,
    listeners,
  });

const guestReady = GuestModule.load(setup.moduleBytes, setup.where);
/** An instance the program is not running in; its memory holds the image `imageId` (a baseline's id). */
interface ParkedInstance {
  instance: GuestInstance;
  imageId: string;
}
/**
 * The one instance this node keeps for the program: prepared at start (so that the program's first arrival pays
 * for its bytes only), then the one it left in, which holds the image it left with.
 */
let warm: ParkedInstance | undefined;
const prepared = guestReady.then((guest) => {
  warmUpArrivalChecks();
  guest.initialBaseline(); // built now, not on the first hop
  warm = { instance: new GuestInstance(guest), imageId: INITIAL_BASELINE_ID };
  if (setup.precopy) precopy = new PrecopySender(setup.precopy, guest.initialBaseline(), { moduleSha256: guest.sha256 }, post, log);
});
/**
 * Rounds of the program's memory sent ahead to setup.precopy.to while the program runs here, until it first stops
 * here (precopy-rounds.ts): the module's initial image is what that node holds before the first.
 */
let precopy: PrecopySender | undefined;
/** The instance a never-run node keeps holds a pre-copied image (from precopyEnd), not the module's initial one. */
const holdsPrecopy = (w: ParkedInstance | undefined) => w !== undefined && !w.instance.ran && w.imageId !== INITIAL_BASELINE_ID;
let baseline: Baseline | undefined;
/**
 * The other node that holds `baseline`: the other end of this node's last hop. Since then the program has been
 * here, so that node has taken part in no other hop and still holds it; no other node can hold it.
 */
let baselinePeer: string | undefined;
let pending: Snapshot | undefined;
/**
 * The sender's baseline made memory of its own (ownBaseline), waiting until the hop it went out in is done: until
 * then `baseline` is a view of the parked instance's memory, which nothing changes meanwhile. Copying a first hop's
 * 64 MiB while its bytes were on their way took ~80 ms of CPU from them (both ends share the cores on one machine).
 * Made when the main thread says the hop is done ('departed'), or before any other message touches the state. The
 * 'departed' of the hop `snapshotId` hands back the buffers its bytes were sent from (moved to the main thread with
 * them): the pages sent raw are in them already, so they become views of them rather than copies (`sent`).
 */
let owning: { snapshotId: string; own: (sent?: SentPages) => void; at: SentAt } | undefined;
function ownNow(back?: { snapshotId?: string; buffers?: ArrayBuffer[] }): void {
  const o = owning;
  owning = undefined;
  if (!o) return;
  const { pages, parts } = o.at;
  const buffers = back?.snapshotId === o.snapshotId && back.buffers?.length === parts.length && back.buffers.every((b, i) => b.byteLength === parts[i]) ? back.buffers : undefined;
  const t0 = performance.now();
  const sent: SentPages | undefined = buffers && {
    at: (index) => {
      const where = pages.get(index);
      return where && new Uint8Array(buffers[where[0]]!, where[1], PAGE_SIZE);
    },
    bytes: parts.reduce((n, b) => n + b, 0),
  };
  o.own(sent);
  log.debug(
    `baseline ${o.snapshotId} made: ${sent?.kept ?? 0} pages kept in the buffer they were sent from ` +
      `(${buffers ? 'handed back' : 'not handed back'}), ${(performance.now() - t0).toFixed(2)} ms`,
  );
}

/**
 * A hand-off being received: its bytes are decoded as they arrive (TransferReceiver). A first hop's pages go
 * straight into `target` as their records arrive; any other transfer is checked as it arrives and applied once
 * verified.
 */
interface Arrival {
  receiver: TransferReceiver;
  suspendedAtMs: number;
  /** performance.now() at resumeBegin, and the pieces since (for the log). */
  begunAt: number;
  pieces: number;
  /** The instance a first hop's pages are written into as they arrive. */
  target?: GuestInstance;
  /** A delta is decoded against the baseline held here (whose pages it changes in place once verified). */
  baselineUsed: boolean;
  /** A pre-copy round from this node (precopyEnd), not a hand-off. */
  precopyFrom?: string;
}
let arrival: Arrival | undefined;

port.on('message', (m: ToWorker) => {
  handle(m).catch((e: unknown) => {
    post({ type: 'failed', message: e instanceof Error ? e.message : String(e), user: e instanceof UserError });
  });
});
post({ type: 'ready' });

async function handle(m: ToWorker): Promise<void> {
  const guest = await guestReady;
  await prepared;
  // (Encoding again replaces the baseline: the copy waiting is of the image that encoding replaces.)
  if (m.type === 'encode') owning = undefined;
  else ownNow(m.type === 'departed' ? m : undefined);
  switch (m.type) {
    case 'departed':
      return;
    case 'close':
      // ONNX Runtime's sessions freed here, on their thread: left to a terminated thread's teardown, Deno's native
      // finalizers aborted the process at exit now and then ("free(): invalid pointer", SIGABRT).
      await nn.backend.close();
      post({ type: 'closed' });
      return;
    case 'encode':
      return encodeAgain(m.output);
    case 'start':
      return run(guest, m, undefined);
    case 'resume':
      return whole(guest, m.bytes, m.suspendedAtMs, m.checksum);
    case 'resumeBegin':
      return begin(guest, m.totalBytes, m.suspendedAtMs, m.checksum);
    case 'precopyBegin':
      return begin(guest, m.totalBytes, 0, m.checksum, m.from);
    case 'precopy':
      return whole(guest, m.bytes, 0, m.checksum, m.from);
    case 'resumePiece':
      if (arrival) {
        arrival.pieces++;
        arrival.receiver.push(m.bytes);
      }
      return;
    case 'resumeEnd':
      return end(guest);
    case 'resumeAbort':
      return abort(guest);
  }
}

function encodeAgain(output: SavedOutput | undefined): void {
  // The destination lacks our baseline after all, or the program is saved to a file: everything.
  // It carries every wasi-nn model and follow-mount entry too: the destination may have lost those it held
  // (restarted, its folder emptied), or it is a file.
  const whole = hostWith({}).selfContained!(setup.node, nn.selfContained(pending!, setup.node, NN_RESOURCE));
  const { encoded, next, changed, at } = encode(output ? withSavedOutput(whole, output) : whole, undefined, pending!.header.node, Infinity);
  post({ type: 'encoded', encoded }, buffersOf(encoded.body.messages));
  if (setup.transfer.delta) owning = { snapshotId: encoded.snapshotId, at, own: (sent) => (baseline = ownBaseline(next, undefined, changed, sent)) };
  if (warm) warm.imageId = next.id; // the same memory, under the id this encoding gave it
}

/** A transfer received whole (a hand-off, or a round when `precopyFrom`): the same path as one streamed in pieces. */
function whole(guest: GuestModule, bytes: Uint8Array[], suspendedAtMs: number, checksum: ChecksumMode, precopyFrom?: string): void {
  begin(guest, bytes.reduce((n, p) => n + p.byteLength, 0), suspendedAtMs, checksum, precopyFrom);
  for (const piece of bytes) {
    arrival!.pieces++;
    arrival!.receiver.push(piece);
  }
  end(guest);
}

/** `precopyFrom`: a pre-copy round from that node (kept, not run), not a hand-off. */
function begin(guest: GuestModule, totalBytes: number, suspendedAtMs: number, checksum: ChecksumMode, precopyFrom?: string): void {
  // (One that never ended, its sender gone, is replaced.)
  if (arrival) abort(guest);
  const a: Arrival = { suspendedAtMs, begunAt: performance.now(), pieces: 0, baselineUsed: false, precopyFrom } as Arrival;
  a.receiver = new TransferReceiver({
    baselines: (id) => {
      // (Every node builds the module's initial image, a fresh copy each time: a first hop here is a delta against it.)
      const memory = baseline?.id === id ? baseline.memory : id === INITIAL_BASELINE_ID ? guest.initialBaseline().memory : undefined;
      a.baselineUsed = memory !== undefined && baseline?.id === id;
      return memory;
    },
    limits: setup.transfer.limits,
    checksum,
    totalBytes,
    onHeader: (header, against) => {
      // Only a first hop (a delta against the initial image, the bulk of the bytes) is written as it arrives, and
      // only into an instance whose loss on a refusal costs nothing: the one prepared ahead, which the program
      // never ran in, else a fresh one. The parked instance that holds the program's last image keeps it until a
      // transfer is verified: it is this node's checkpoint (`pending` views its memory, which a grow would detach),
      // and a delta against it is small enough to apply after the last byte.
      if (against !== INITIAL_BASELINE_ID) return undefined;
      // A round for a node the program ran on would overwrite its parked instance: refused whole at the end.
      if (precopyFrom !== undefined && (!warm || warm.instance.ran)) return undefined;
      // (The prepared instance holds the initial image unless a pre-copy round was written into it.)
      const target = warm && !warm.instance.ran && warm.imageId === INITIAL_BASELINE_ID ? warm.instance : new GuestInstance(guest);
      a.target = target;
      target.growTo(header.memory.byteLength);
      return { page: (index, data) => target.writePage(index, data) };
    },
  });
  arrival = a;
}

/** A hand-off whose bytes stopped coming (its connection broke): dropped, with what it wrote into. */
function abort(guest: GuestModule): void {
  const a = arrival;
  arrival = undefined;
  if (a?.target) dropTarget(guest, a.target);
}

/**
 * A streamed target instance is not used (refused, aborted): one prepared ahead is replaced by a new one, as a
 * refused stream may have written any page of it.
 */
function dropTarget(guest: GuestModule, target: GuestInstance): void {
  if (warm?.instance === target) warm = { instance: new GuestInstance(guest), imageId: INITIAL_BASELINE_ID };
}

function end(guest: GuestModule): void {
  const a = arrival;
  arrival = undefined;
  if (!a) return; // aborted, or begun by no one
  const t0 = performance.now();
  const before = { baseline, baselinePeer };
  let decoded: DecodedTransfer;
  try {
    decoded = a.receiver.end();
  } catch (e) {
    // Checked before any page of the baseline held here is touched: it is as it was. (A delta against a baseline
    // this node does not hold is answered with a whole snapshot: the main thread need not read the header to tell.)
    post({ type: 'refused', message: (e as Error).message, baselineId: baseline?.id, ...(e instanceof MissingBaselineError ? { wholeNeeded: true } : {}) });
    if (a.target) dropTarget(guest, a.target);
    return;
  }
  if (a.precopyFrom !== undefined) return precopyEnd(guest, a, a.precopyFrom, decoded);
  baseline = setup.transfer.delta ? decoded.baseline : undefined;
  baselinePeer = decoded.snapshot.header.migration?.from;
  run(guest, { type: 'resume' }, { a, decoded, t0, before });
}

/**
 * A pre-copy round, verified (as a transfer: sizes, page indices, checksum, against the image held here): its pages
 * go into the instance prepared ahead, which the program never ran in, and its image becomes the baseline a first hop
 * from `from` is a delta against. Refused on a node the program ran on: its parked instance and baseline are the
 * program's (a checkpoint's), which a round must not touch.
 */
function precopyEnd(guest: GuestModule, a: Arrival, from: string, decoded: DecodedTransfer): void {
  const refuse = (why: string) => {
    if (a.target) dropTarget(guest, a.target);
    post({ type: 'refused', message: why, baselineId: baseline?.id });
  };
  const { header } = decoded.snapshot;
  if (!warm || warm.instance.ran) return refuse(`the program has run on ${setup.node}, which keeps what it left here`);
  if (!setup.transfer.delta) return refuse(`${setup.node} keeps no memory baselines (memory_migration: full)`);
  if (header.moduleSha256 !== guest.sha256) return refuse(`it is of module ${header.moduleSha256.slice(0, 12)}…, ${setup.node} runs ${guest.sha256.slice(0, 12)}…`);
  if (header.node !== setup.node || header.blobs.length > 0 || header.migration) return refuse(`it is not a pre-copy round for ${setup.node}`);
  let target: GuestInstance;
  if (decoded.streamed) target = a.target!;
  else if (decoded.against !== undefined && warm.imageId === decoded.against) {
    // A later round: only its pages are written, once all of it is verified.
    target = warm.instance;
    try {
      target.growTo(header.memory.byteLength);
      const pages = new Map(decoded.snapshot.memory.pages.map((p) => [p.index, p.data]));
      for (const index of decoded.changed) target.writePage(index, pages.get(index));
    } catch (e) {
      warm = { instance: new GuestInstance(guest), imageId: INITIAL_BASELINE_ID };
      [baseline, baselinePeer] = [undefined, undefined];
      return refuse((e as Error).message);
    }
  } else return refuse(`it is against image ${decoded.against ?? '(none)'}, the instance here holds ${warm.imageId}`);
  warm = { instance: target, imageId: decoded.baseline.id };
  baseline = decoded.baseline;
  baselinePeer = from;
  log.debug(`pre-copy round from ${from} kept: ${decoded.changed.length} pages, image ${decoded.baseline.id}`);
  post({ type: 'precopied', imageId: decoded.baseline.id });
}

/** What a resume brings to run(). */
interface Resuming {
  a: Arrival;
  decoded: DecodedTransfer;
  /** performance.now() at the end of the bytes. */
  t0: number;
  /** The baseline held before this hand-off, restored if it is refused. */
  before: { baseline: Baseline | undefined; baselinePeer: string | undefined };
}

function run(guest: GuestModule, m: Extract<ToWorker, { type: 'start' }> | { type: 'resume' }, r: Resuming | undefined): void {
  const from = r?.decoded.snapshot;
  const decodedAt = performance.now();
  const parked = warm;
  const parkedRan = parked?.instance.ran === true;
  // The program runs in: the instance a first hop was written into as it arrived; else the parked one if its memory
  // can take the image (memory never shrinks), writing only the changed pages where it holds the image the delta is
  // against; else a fresh one. `pending` (the checkpoint of the last hop from here) is a view of the parked
  // instance's memory.
  let instance: GuestInstance | undefined;
  let changed: number[] | undefined;
  if (r?.decoded.streamed) [instance, changed] = [r.a.target, []];
  else {
    const matches = r?.decoded.against !== undefined && warm?.imageId === r.decoded.against;
    // (An instance holding a pre-copied image is used only by a delta against that image: nothing else knows which of
    // its pages were written.)
    const fits = !from || (warm !== undefined && warm.instance.memoryBytes <= from.memory.byteLength);
    instance = fits && (matches || !holdsPrecopy(warm)) ? warm?.instance : undefined;
    changed = instance && matches ? r!.decoded.changed : undefined;
  }
  warm = undefined;
  let resumed = m.type === 'start';
  let result: SegmentResult;
  precopy?.begin();
  try {
    result = runSegment(guest, setup.node, hostWith(m.type === 'start' ? m.storage : {}, m.type === 'start' ? m.listeners : undefined), {
      from,
      instance,
      changed,
      forced: setup.forced,
      onSystemCall: precopy && ((i) => precopy!.tick(i)),
      onResumed: () => {
        resumed = true;
        pending = undefined; // the program runs here again: a hop's whole re-encoding is no longer wanted
        post({ type: 'resumed', downtimeMs: wallClockMs() - r!.a.suspendedAtMs, baselineId: baseline?.id });
        const [decodeMs, restoreMs] = [decodedAt - r!.t0, performance.now() - decodedAt];
        const how = r!.decoded.streamed
          ? `${instance === parked?.instance ? 'the instance prepared ahead' : 'a fresh instance'}, pages written as ${r!.a.pieces} pieces arrived over ${(r!.t0 - r!.a.begunAt).toFixed(2)} ms`
          : !instance
            ? 'a fresh instance'
            : changed
              ? `the parked instance, ${changed.length} pages written`
              : 'the parked instance, all pages written';
        log.debug(`resumed in ${how}: decode ${decodeMs.toFixed(2)} ms, restore ${restoreMs.toFixed(2)} ms`);
      },
    });
  } catch (e) {
    if (!resumed && r) {
      // Restoring failed (the library-OS state, the memory, the globals …; even a trap while the stack rewinds):
      // the hand-off is refused, not the program's end. A delta has changed its baseline's pages already.
      [baseline, baselinePeer] = r.a.baselineUsed ? [undefined, undefined] : [r.before.baseline, r.before.baselinePeer];
      // The parked instance is kept if restoring did not write into it; else `pending`, a view of its memory, is no
      // longer the program as it left, and goes too (one prepared ahead is replaced).
      const parkedWritten = parked !== undefined && parked.instance === instance && instance.written;
      if (parked && !parkedWritten) warm = parked;
      else if (parkedWritten && !parkedRan) warm = { instance: new GuestInstance(guest), imageId: INITIAL_BASELINE_ID };
      else if (parkedWritten) pending = undefined;
      post({
        type: 'refused',
        message: (e as Error).message,
        baselineId: baseline?.id,
        checkpointLost: parkedWritten && parkedRan,
        ...(e instanceof NodeStateLostError ? { wholeNeeded: true } : {}),
      });
      return;
    }
    const trap = asTrap(e);
    if (!trap) throw e;
    post({ type: 'trapped', message: trap.message, frames: wasmBacktrace(trap) });
    return;
  }
  // Pre-copy ends at the program's first stop here; a round being posted is posted whole first (the main thread sends
  // it before the hop, which is then a delta against it).
  const precopied = precopy?.finish(result.kind === 'migrate' ? result.migration.to : undefined);
  precopy = undefined;
  if (result.kind === 'exited') {
    post({ type: 'exited', code: result.code });
    return;
  }
  pending = result.snapshot;
  // A delta when the destination is the other end of the last hop; no round trip to ask. (Should it have lost
  // the baseline since, e.g. restarted, it says so and the main thread asks for a whole snapshot.) Any other node
  // gets a delta against the module's initial image, which it builds itself.
  const to = result.migration.to;
  const against = !setup.transfer.delta ? undefined : baselinePeer === to ? baseline : (precopied ?? guest.initialBaseline());
  if (precopied) log.debug(`hop to ${to}: a delta against the pre-copied image ${precopied.id}`);
  const { encoded, next, changed: sentPages, at, rest, copied } = encode(pending, against, to, PART_BYTES);
  post(
    { type: 'suspended', migration: result.migration, suspendedAtMs: performance.timeOrigin + result.suspendedAt, encoded },
    buffersOf(encoded.body.messages),
  );
  // The rest of a large hop's bytes, copied while the first are on their way.
  let parts = 1;
  for (const part of rest) {
    parts++;
    post({ type: 'bodyPart', snapshotId: encoded.snapshotId, messages: part.messages, last: false }, [part.buffer]);
  }
  if (encoded.more) post({ type: 'bodyPart', snapshotId: encoded.snapshotId, messages: [], last: true });
  const { encodedAt, firstAt } = copied;
  log.debug(
    `body of ${encoded.body.byteLength} bytes in ${parts} parts: the first copied ${(firstAt - encodedAt).toFixed(2)} ms after ` +
      `encoding, all ${(performance.now() - encodedAt).toFixed(2)} ms after`,
  );
  // Off the downtime, once the hop is done (ownNow): the baseline in memory of its own, so that the parked instance
  // can run the program again; its memory is the image just sent.
  if (setup.transfer.delta) owning = { snapshotId: encoded.snapshotId, at, own: (sent) => (baseline = ownBaseline(next, against, sentPages, sent)) };
  warm = { instance: result.instance, imageId: next.id };
}

/**
 * A hop's bytes go to the main thread in parts of this size: the first as soon as it is copied, the others while
 * the main thread sends it (a first hop of 64 MiB copied whole took ~50 ms before its first byte left).
 */
const PART_BYTES = 4 << 20;

/**
 * Encode for the wire: the first part of the body (up to `partBytes`) in `encoded`, copied now; the others are
 * copied as `rest` is iterated (each records where its raw pages lie in `at`).
 */
function encode(
  snapshot: Snapshot,
  against: Baseline | undefined,
  to: string,
  partBytes: number,
): { encoded: Encoded; next: Baseline; changed: number[]; at: SentAt; rest: Iterable<BodyPart>; copied: { encodedAt: number; firstAt: number } } {
  // (Its checksum is computed as the body is copied: the first part need not wait for a pass over all of it.)
  const { chunks, stats, baseline: next, changed, raw } = encodeTransfer(snapshot, { compression: setup.transfer.compression, baseline: against, unsealed: true });
  const encodedAt = performance.now();
  // (A view of the suspended instance's memory until handle() makes it memory of its own; nothing runs in between.)
  baseline = setup.transfer.delta ? next : undefined;
  baselinePeer = to;
  // The raw pages lie whole in the body's buffers: once handed back ('departed') they are the baseline's pages.
  const at: SentAt = { pages: new Map(), parts: [] };
  const indexOf = new Map([...raw].map(([index, page]) => [page, index]));
  const parts = bodyParts(
    chunks,
    partBytes,
    // (The map's keys are the raw pages: no set of them beside it.)
    setup.transfer.delta ? indexOf : undefined,
    (page, part, offset) => at.pages.set(indexOf.get(page)!, [part, offset]),
    true,
  );
  const part = (p: IteratorResult<BodyPart>) => {
    if (!p.done) at.parts.push(p.value.buffer.byteLength);
    return p;
  };
  const first = part(parts.next());
  const byteLength = chunks.reduce((n, c) => n + c.byteLength, 0);
  const messages = first.done ? [] : first.value.messages;
  const more = messages.reduce((n, m) => n + m.byteLength - MESSAGE_HEAD_BYTES, 0) < byteLength;
  // (A delta against the module's initial image is a first hop, logged as whole.)
  const delta = against !== undefined && against.id !== INITIAL_BASELINE_ID;
  const encoded: Encoded = { body: { messages, byteLength }, stats, snapshotId: next.id, delta, baselineId: baseline?.id, ...(more && { more }) };
  const rest = { *[Symbol.iterator]() {
    for (let p = part(parts.next()); !p.done; p = part(parts.next())) yield p.value;
  } };
  return { encoded, next, changed, at, rest, copied: { encodedAt, firstAt: performance.now() } };
}

/**
 * Where a hop's raw pages lie in the buffers its bytes were sent from ([part, byte offset] by page index), and each
 * part's length.
 */
interface SentAt {
  pages: Map<number, [number, number]>;
  parts: number[];
}

/** Milliseconds since the epoch, sub-millisecond: comparable between processes of one machine. */
function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
