// What the parts of a node process share: who it is, its peers and program worker, and the little state that says
// where the program is. serve.ts builds it; handoff.ts and membership.ts act on it.
import type { PrecopyLink } from './precopy.js';
import type { KafuConfig, NodeConfig } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { FrameLimits } from '../core/snapshot.js';
import type { OutputSink } from './output.js';
import type { Peers } from './peers.js';
import type { NodeSockets } from './sockets.js';
import type { NodeWorker, WorkerEvent } from './program-worker.js';
import type { NodeTls } from './tls.js';

/** idle: the program is elsewhere; running: it runs here; departing: it stopped here and is being handed on. */
export type Where = 'idle' | 'running' | 'departing';

export interface NodeState {
  where: Where;
  /** The program has been started (heartbeats say so). */
  started: boolean;
  /** The memory baseline this node holds (the last hop's image), for delta migrations. */
  heldBaseline: string | undefined;
  /**
   * Where the program is, as far as this node knows: itself once it received it, the destination of its last
   * hand-off, and for the coordinator also what heartbeat replies say. access.ts believes "program finished" from it.
   */
  holder: string;
  /**
   * As of when (performance.now()) `holder` is known: a heartbeat reply asked before that is older news than this
   * node's own hops and must not overwrite them (setHolder).
   */
  holderKnownAt: number;
  /** Follower: when the first node was last heard from (0: never). */
  lastHeartbeat: number;
  /** The run is ending (program finished or cluster failed): no new work is accepted. */
  ending: boolean;
  /** Id of the last snapshot received, so that a retried hand-off is not run twice. */
  lastSnapshotId: string;
  /** A received snapshot is being resumed (not yet known to be good): another hand-off meanwhile is told to retry. */
  resuming: boolean;
  /**
   * The first node is lost and this node must shut down (follower_on_coordinator_lost: shutdown_self) but holds the
   * program, which can only be saved stopped: at its next migration point it is saved to a file instead of moving.
   */
  saveAtNextStop: boolean;
  /**
   * cluster.checkpoint: hops — the program as this node last handed it on (its worker keeps that snapshot until the
   * program runs here again): for node `to`, at wall-clock `atMs`, when the first node had printed `printed` bytes of
   * its output (counted on the first node only).
   */
  checkpoint?: { to: string; atMs: number; printed: number };
  /** A recovery from the checkpoint is under way. */
  recovering: boolean;
}

export interface NodeContext {
  nodeId: string;
  /** The config file as given on the command line (for messages). */
  configFile: string;
  /** Where a program that cannot be handed on is saved (the config file's folder). */
  saveDir: string;
  config: KafuConfig;
  first: NodeConfig;
  coordinator: boolean;
  moduleSha256: string;
  /** What a snapshot this node receives may hold (the module's maximum memory, cluster.migration.max_state_mb). */
  limits: FrameLimits;
  /** This node's mount identities (guest path → id). */
  storage: Record<string, string>;
  peers: Peers;
  /** This node's TLS material; undefined in a cluster that is explicitly plaintext. */
  tls: NodeTls | undefined;
  log: Logger;
  peerTimeoutMs: number;
  /** Rounds of the program's memory sent ahead to the node it goes to next (precopy.ts), where configured. */
  precopy?: PrecopyLink;
  /** Runs the program here: a thread of this process, or a browser node's tab. */
  worker: NodeWorker;
  /** The program's sockets whose home is this node, and the relay to the others'. */
  sockets: NodeSockets;
  /** Where the program's output goes from this node; `local` is this process's terminal. */
  output: OutputSink;
  local: OutputSink;
  state: NodeState;
  /**
   * The first event from the worker after a resume settles the Migrate call that delivered the program;
   * `onResumed` runs synchronously when it is 'resumed', before any output the resumed program prints.
   */
  onNextProgramEvent(onResumed?: () => void): Promise<WorkerEvent>;
  /** End the run on every node with a message (exit code 1 unless given). */
  fail(why: string, code?: number): Promise<void>;
  /** End this node only, with a message (the others are not told: e.g. one of them holds the program). */
  stop(why: string, code?: number): void;
  /** First node: node `id`, which holds the program, is gone (a checkpoint may continue the run). */
  holderLost(id: string): Promise<void>;
  /** Follower without the program: the first node is gone; stop (saving a checkpoint of the program, if it holds one). */
  coordinatorLost(why: string): Promise<void>;
}

/** Where the program is, learnt by this node as of `asOf` (by default now: its own hops). */
export function setHolder(state: NodeState, id: string, asOf = performance.now()): void {
  state.holder = id;
  state.holderKnownAt = Math.max(state.holderKnownAt, asOf);
}
