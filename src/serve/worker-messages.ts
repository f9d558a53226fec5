// Messages between a node's main thread (gRPC, cluster) and the worker thread that runs the program. The guest
// runs synchronously, so it lives in a worker: the main thread keeps answering RPCs and heartbeats meanwhile.
import type { MountConfig, NnConfig } from '../core/config.js';
import type { Migration } from '../core/migration-stack.js';
import type { ChecksumMode, FrameLimits } from '../core/snapshot.js';
import type { Compression, TransferStats } from '../core/transfer.js';
import type { MessagePort } from 'node:worker_threads';
import type { StorageIds } from '../node/node-system.js';
import type { MigrateBody } from './migrate-body.js';
import type { SavedOutput } from './saved-program.js';
import type { SocketRef } from '../wasi/sockets.js';

export interface WorkerSetup {
  node: string;
  moduleBytes: Uint8Array;
  /** The module's path or URL, for messages. */
  where: string;
  args: string[];
  env: string[];
  mounts: MountConfig[];
  /** app.nn, model paths absolute. */
  nn: NnConfig;
  /** `limits`: what a received snapshot may hold (the module's maximum memory, cluster.migration.max_state_mb). */
  transfer: { delta: boolean; compression: Compression; limits: FrameLimits };
  forced?: { every: number; nodes: string[] };
  logLevel: string;
  logPrefix: string;
  /** app.output first_node: stdin comes through the main thread (stdin-bridge.ts), not from fd 0. */
  stdin?: SharedArrayBuffer;
  /** The program's socket calls go through the main thread (serve/sockets.ts): the worker's end of that channel. */
  sockets?: { port: MessagePort; flag: Int32Array };
  /** Pre-copy rounds toward node `to` while the program runs here (precopy-rounds.ts). */
  precopy?: PrecopySetup;
}

/** Where and how often a node's worker sends rounds of the program's memory ahead (cluster.migration.precopy). */
export interface PrecopySetup {
  to: string;
  afterMs: number;
  intervalMs: number;
  /** Int32 slots the main thread writes and the worker reads at WASI calls (precopy-rounds.ts ACKED, STOPPED). */
  control: SharedArrayBuffer;
}

export type ToWorker =
  /** Start the program (first node); `storage`: every node's mount identities, carried along in snapshots. */
  | { type: 'start'; storage: StorageIds; listeners?: SocketRef[] }
  /**
   * A snapshot (transfer bytes, in pieces) to resume; `suspendedAtMs` is when the program stopped on the sender; `checksum`
   * 'checked' when the main thread checked it as the bytes arrived.
   */
  | { type: 'resume'; bytes: Uint8Array[]; suspendedAtMs: number; checksum: ChecksumMode }
  /**
   * The same in pieces as they arrive (program-worker.ts resumeBegin …): the worker decodes each as it comes, and
   * a first hop's pages go into memory before the last byte. One outcome, as for 'resume', after 'resumeEnd'.
   */
  | { type: 'resumeBegin'; totalBytes: number; suspendedAtMs: number; checksum: ChecksumMode }
  | { type: 'resumePiece'; bytes: Uint8Array }
  | { type: 'resumeEnd' }
  /**
   * A pre-copy round from node `from` (precopy.ts), whole or streamed as for a hand-off (its pieces then come as
   * 'resumePiece', 'resumeEnd', 'resumeAbort'): kept in the instance prepared ahead, never run. Answered 'precopied'
   * or 'refused'.
   */
  | { type: 'precopy'; from: string; bytes: Uint8Array[]; checksum: ChecksumMode }
  | { type: 'precopyBegin'; from: string; totalBytes: number; checksum: ChecksumMode }
  /** The pieces stopped coming (the sender's connection broke): drop the hand-off, no outcome. */
  | { type: 'resumeAbort' }
  /**
   * The hop the program last left in is done (its reply came, or it failed): the worker's idle work may run. With
   * the buffers that hop's bytes (the Migrate messages of snapshot `snapshotId`) were sent from, handed back.
   */
  | { type: 'departed'; snapshotId?: string; buffers?: ArrayBuffer[] }
  /** The node stops: release native resources (WASI-NN sessions) before the thread is terminated; answered 'closed'. */
  | { type: 'close' }
  /**
   * Encode the suspended program again, whole: its destination lacks the baseline the first encoding used, or it is
   * saved to a file, with `output` (undelivered) inside (saved-program.ts).
   */
  | { type: 'encode'; output?: SavedOutput };

/** A suspended program encoded for the wire. */
export interface Encoded {
  /** The snapshot's bytes, as Migrate messages (moved from the worker, not copied). */
  body: MigrateBody;
  stats: TransferStats;
  /** Unique per snapshot. */
  snapshotId: string;
  /** Only the pages that differ from the last hop's memory. */
  delta: boolean;
  /** The memory baseline this node holds after the hop (delta migrations). */
  baselineId?: string;
  /** The body's other messages follow ('bodyPart'), copied while these are sent. */
  more?: boolean;
}

export type FromWorker =
  /** Native resources released ('close'): the thread may be terminated. */
  | { type: 'closed' }
  /**
   * The worker listens for messages: the main thread sends none before. Deno (2.x) drops what reaches a
   * worker before its module has attached the listener; Node and Bun queue it.
   */
  | { type: 'ready' }
  | { type: 'output'; fd: 1 | 2; data: Uint8Array }
  | { type: 'log'; line: string }
  /** The program waits for stdin: answer through the shared buffer. */
  | { type: 'stdin'; maxBytes: number }
  /** Resumed and running again; `downtimeMs` from the sender's suspension (wall clock, same machine exact). */
  | { type: 'resumed'; downtimeMs: number; baselineId?: string }
  /**
   * A snapshot to resume was refused (it does not decode, or restoring it failed) before the program ran: nothing of
   * it stays, the worker is as before except that it holds `baselineId` (none when a refused delta used its baseline).
   */
  | {
      type: 'refused';
      message: string;
      baselineId?: string;
      /**
       * A whole snapshot will do: it is a delta against a memory baseline this node does not hold, or it needs a
       * wasi-nn model or follow-mount files this node lost since the program recorded that it holds them.
       */
      wholeNeeded?: boolean;
      /**
       * Restoring had written into the instance whose memory the kept snapshot of the last hop from here views
       * (cluster.checkpoint: hops): that snapshot is gone.
       */
      checkpointLost?: boolean;
    }
  /** Stopped at a migration point, already encoded for the destination. */
  | { type: 'suspended'; migration: Migration; suspendedAtMs: number; encoded: Encoded }
  | { type: 'encoded'; encoded: Encoded }
  /**
   * A pre-copy round for node `to` (precopy-rounds.ts): its transfer's chunks, unsealed (the main thread copies them
   * into the messages it sends, computing the checksum), its pages in shared memory nothing writes any more; `seq` is
   * what the main thread writes to the ACKED slot once `to` holds image `imageId`.
   */
  | { type: 'precopyRound'; to: string; seq: number; imageId: string; pages: number; chunks: Uint8Array[] }
  /** The next pre-copy step is due in `inMs`: the main thread sets the DUE slot then (precopy-rounds.ts). */
  | { type: 'precopyWake'; inMs: number }
  /** A pre-copy round received here is kept: this node's prepared instance and baseline now hold `imageId`. */
  | { type: 'precopied'; imageId: string }
  /** More of the body of the snapshot `snapshotId` just 'suspended' (encoded.more); `last`: all of it is here. */
  | { type: 'bodyPart'; snapshotId: string; messages: Uint8Array[]; last: boolean }
  | { type: 'exited'; code: number }
  /** The program trapped (a bug in it): message and backtrace in its own function names. */
  | { type: 'trapped'; message: string; frames: string[] }
  /** A user mistake (refused migration, bad snapshot …) or an internal error. */
  | { type: 'failed'; message: string; user: boolean };
