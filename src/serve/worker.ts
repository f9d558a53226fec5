// The worker thread of a node: runs the program's stretches on this node. Receives a start or a snapshot,
// runs until the program ends or calls for another node, then encodes the snapshot for the wire. Keeps the
// memory image of the last hop as the baseline for page deltas.
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../core/errors.js';
import { GuestModule } from '../core/guest.js';
import { createLogger, parseLevel } from '../core/log.js';
import { runSegment, type SegmentResult } from '../core/program.js';
import type { Snapshot } from '../core/snapshot.js';
import { decodeTransfer, encodeTransfer, type Baseline } from '../core/transfer.js';
import { asTrap, wasmBacktrace } from '../core/trap.js';
import { concat } from '../core/wasm-sections.js';
import { NodeNn } from '../node/node-nn.js';
import { nodeProgramHost, type StorageIds } from '../node/node-system.js';
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

async function handle(m: ToWorker): Promise<void> {
  const guest = await guestReady;
  if (m.type === 'encode') {
    // The destination lacks our baseline after all, or the program is saved to a file: everything.
    const encoded = encode(m.output ? withSavedOutput(pending!, m.output) : pending!, undefined, pending!.header.node);
    post({ type: 'encoded', encoded }, [encoded.bytes.buffer as ArrayBuffer]);
    return;
  }
  let from: Snapshot | undefined;
  let suspendedAtMs = 0;
  const before = { baseline, baselinePeer };
  /** A delta was decoded against the baseline, whose pages it changed in place. */
  let baselineUsed = false;
  if (m.type === 'resume') {
    try {
      const held = (id: string) => {
        const memory = baseline?.id === id ? baseline.memory : undefined;
        baselineUsed = memory !== undefined;
        return memory;
      };
      const decoded = decodeTransfer(m.bytes, held, setup.transfer.limits, m.checksum);
      from = decoded.snapshot;
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
  try {
    result = runSegment(guest, setup.node, hostWith(m.type === 'start' ? m.storage : {}, m.type === 'start' ? m.listeners : undefined), {
      from,
      forced: setup.forced,
      onResumed: () => {
        resumed = true;
        pending = undefined; // the program runs here again: a hop's whole re-encoding is no longer wanted
        post({ type: 'resumed', downtimeMs: wallClockMs() - suspendedAtMs, baselineId: baseline?.id });
      },
    });
  } catch (e) {
    if (!resumed) {
      // Restoring failed (the library-OS state, the memory, the globals …; even a trap while the stack rewinds):
      // the hand-off is refused, not the program's end. A delta has changed its baseline's pages already.
      [baseline, baselinePeer] = baselineUsed ? [undefined, undefined] : [before.baseline, before.baselinePeer];
      post({ type: 'refused', message: (e as Error).message, baselineId: baseline?.id });
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
  // the baseline since, e.g. restarted, it says so and the main thread asks for a whole snapshot.)
  const to = result.migration.to;
  const encoded = encode(pending, setup.transfer.delta && baselinePeer === to ? baseline : undefined, to);
  post(
    { type: 'suspended', migration: result.migration, suspendedAtMs: performance.timeOrigin + result.suspendedAt, encoded },
    [encoded.bytes.buffer as ArrayBuffer],
  );
}

function encode(snapshot: Snapshot, against: Baseline | undefined, to: string): Encoded {
  const { chunks, stats, baseline: next } = encodeTransfer(snapshot, { compression: setup.transfer.compression, baseline: against });
  baseline = setup.transfer.delta ? next : undefined;
  baselinePeer = to;
  return { bytes: concat(chunks), stats, snapshotId: next.id, delta: against !== undefined, baselineId: baseline?.id };
}

/** Milliseconds since the epoch, sub-millisecond: comparable between processes of one machine. */
function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
