// The worker thread of a node: runs the program's stretches on this node. Receives a start or a snapshot,
// runs until the program ends or calls for another node, then encodes the snapshot for the wire. Keeps the
// memory image of the last hop as the baseline for page deltas.
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../core/errors.js';
import { GuestInstance, GuestModule } from '../core/guest.js';
import { createLogger, parseLevel } from '../core/log.js';
import { runSegment, type SegmentResult } from '../core/program.js';
import type { Snapshot } from '../core/snapshot.js';
import { INITIAL_BASELINE_ID, decodeTransfer, encodeTransfer, ownBaseline, type Baseline } from '../core/transfer.js';
import { asTrap, wasmBacktrace } from '../core/trap.js';
import { buffersOf, migrateBody } from './migrate-body.js';
import { NodeNn } from '../node/node-nn.js';
import { NN_RESOURCE, nodeProgramHost, warmUpArrivalChecks, type StorageIds } from '../node/node-system.js';
import { MissingModelError } from '../wasi/nn/nn-os.js';
import { readProcessStdin } from '../node/stdin.js';
import { withSavedOutput } from './saved-program.js';
import { SyncSockets } from '../node/sync-sockets.js';
import { SyncCaller } from '../node/sync-worker.js';
import type { SocketRef } from '../wasi/sockets.js';
import { workerStdin } from './stdin-bridge.js';
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
});
let baseline: Baseline | undefined;
/**
 * The other node that holds `baseline`: the other end of this node's last hop. Since then the program has been
 * here, so that node has taken part in no other hop and still holds it; no other node can hold it.
 */
let baselinePeer: string | undefined;
let pending: Snapshot | undefined;

port.on('message', (m: ToWorker) => {
  handle(m).catch((e: unknown) => {
    post({ type: 'failed', message: e instanceof Error ? e.message : String(e), user: e instanceof UserError });
  });
});
post({ type: 'ready' });

async function handle(m: ToWorker): Promise<void> {
  const guest = await guestReady;
  await prepared;
  if (m.type === 'encode') {
    // The destination lacks our baseline after all, or the program is saved to a file: everything.
    // It carries every wasi-nn model too: the destination may have lost those it held (restarted), or it is a file.
    const whole = nn.selfContained(pending!, setup.node, NN_RESOURCE);
    const { encoded, next, changed: sent } = encode(m.output ? withSavedOutput(whole, m.output) : whole, undefined, pending!.header.node);
    post({ type: 'encoded', encoded }, buffersOf(encoded.body.messages));
    if (setup.transfer.delta) baseline = ownBaseline(next, undefined, sent);
    if (warm) warm.imageId = next.id; // the same memory, under the id this encoding gave it
    return;
  }
  let from: Snapshot | undefined;
  let changed: number[] | undefined;
  let suspendedAtMs = 0;
  const t0 = performance.now();
  let decodedAt = t0;
  const before = { baseline, baselinePeer };
  /** A delta was decoded against the baseline, whose pages it changed in place. */
  let baselineUsed = false;
  if (m.type === 'resume') {
    try {
      const held = (id: string) => {
        // (Every node builds the module's initial image: a first hop here is a delta against it.)
        const memory = baseline?.id === id ? baseline.memory : id === INITIAL_BASELINE_ID ? guest.initialBaseline().memory : undefined;
        baselineUsed = memory !== undefined && baseline?.id === id;
        return memory;
      };
      const decoded = decodeTransfer(m.bytes, held, setup.transfer.limits, m.checksum);
      from = decoded.snapshot;
      // Only the changed pages need writing when the parked instance holds the image the delta is against.
      changed = decoded.against !== undefined && warm?.imageId === decoded.against ? decoded.changed : undefined;
      decodedAt = performance.now();
      baseline = setup.transfer.delta ? decoded.baseline : undefined;
      baselinePeer = decoded.snapshot.header.migration?.from;
    } catch (e) {
      // Checked before any page is touched: the baseline is as it was.
      post({ type: 'refused', message: (e as Error).message, baselineId: baseline?.id });
      return;
    }
    suspendedAtMs = m.suspendedAtMs;
  }
  let resumed = m.type === 'start';
  let result: SegmentResult;
  // The program runs in the parked instance if its memory can take the image (memory never shrinks), else in a
  // fresh one. `pending` (the checkpoint of the last hop from here) is a view of the parked instance's memory.
  const instance = !from || (warm && warm.instance.memoryBytes <= from.memory.byteLength) ? warm?.instance : undefined;
  if (!instance) changed = undefined;
  const parked = warm;
  warm = undefined;
  try {
    result = runSegment(guest, setup.node, hostWith(m.type === 'start' ? m.storage : {}, m.type === 'start' ? m.listeners : undefined), {
      from,
      instance,
      changed,
      forced: setup.forced,
      onResumed: () => {
        resumed = true;
        pending = undefined; // the program runs here again: a hop's whole re-encoding is no longer wanted
        post({ type: 'resumed', downtimeMs: wallClockMs() - suspendedAtMs, baselineId: baseline?.id });
        const [decodeMs, restoreMs] = [decodedAt - t0, performance.now() - decodedAt];
        const how = !instance ? 'a fresh instance' : changed ? `the parked instance, ${changed.length} pages written` : 'the parked instance, all pages written';
        log.debug(`resumed in ${how}: decode ${decodeMs.toFixed(2)} ms, restore ${restoreMs.toFixed(2)} ms`);
      },
    });
  } catch (e) {
    if (!resumed) {
      // Restoring failed (the library-OS state, the memory, the globals …; even a trap while the stack rewinds):
      // the hand-off is refused, not the program's end. A delta has changed its baseline's pages already.
      [baseline, baselinePeer] = baselineUsed ? [undefined, undefined] : [before.baseline, before.baselinePeer];
      // The parked instance is kept only if restoring wrote nothing into it; else `pending`, a view of its memory,
      // is no longer the program as it left, and goes too.
      if (instance && !instance.written) warm = parked;
      else if (instance) pending = undefined;
      post({
        type: 'refused',
        message: (e as Error).message,
        baselineId: baseline?.id,
        checkpointLost: instance?.written === true && !!parked && parked.instance === instance,
        ...(e instanceof MissingModelError ? { wholeNeeded: true } : {}),
      });
      return;
    }
    const trap = asTrap(e);
    if (!trap) throw e;
    post({ type: 'trapped', message: trap.message, frames: wasmBacktrace(trap) });
    return;
  }
  if (result.kind === 'exited') {
    post({ type: 'exited', code: result.code });
    return;
  }
  pending = result.snapshot;
  // A delta when the destination is the other end of the last hop; no round trip to ask. (Should it have lost
  // the baseline since, e.g. restarted, it says so and the main thread asks for a whole snapshot.) Any other node
  // gets a delta against the module's initial image, which it builds itself.
  const to = result.migration.to;
  const against = !setup.transfer.delta ? undefined : baselinePeer === to ? baseline : guest.initialBaseline();
  const { encoded, next, changed: sent } = encode(pending, against, to);
  post(
    { type: 'suspended', migration: result.migration, suspendedAtMs: performance.timeOrigin + result.suspendedAt, encoded },
    buffersOf(encoded.body.messages),
  );
  // Off the downtime (the bytes are on their way): the baseline in memory of its own, so that the parked instance
  // can run the program again; its memory is the image just sent.
  if (setup.transfer.delta) baseline = ownBaseline(next, against, sent);
  warm = { instance: result.instance, imageId: next.id };
}

function encode(snapshot: Snapshot, against: Baseline | undefined, to: string): { encoded: Encoded; next: Baseline; changed: number[] } {
  const { chunks, stats, baseline: next, changed } = encodeTransfer(snapshot, { compression: setup.transfer.compression, baseline: against });
  // (A view of the suspended instance's memory until handle() makes it a copy; nothing runs in between.)
  baseline = setup.transfer.delta ? next : undefined;
  baselinePeer = to;
  // (A delta against the module's initial image is a first hop, logged as whole.)
  const delta = against !== undefined && against.id !== INITIAL_BASELINE_ID;
  const encoded = { body: migrateBody(chunks), stats, snapshotId: next.id, delta, baselineId: baseline?.id };
  return { encoded, next, changed };
}

/** Milliseconds since the epoch, sub-millisecond: comparable between processes of one machine. */
function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
