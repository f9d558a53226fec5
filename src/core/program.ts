// One stretch of a program's life on one node: start (or resume a snapshot) there, run until the program ends
// or calls for another node, and turn a suspension into a snapshot for that node. Used by every runtime mode.
import { UserError } from './errors.js';
import { GuestInstance, type GuestModule, type GuestSystem, type RunOutcome } from './guest.js';
import type { KafuMetadata } from './metadata.js';
import { MigrationStack, type Migration } from './migration-stack.js';
import type { Snapshot } from './snapshot.js';

export const RUNTIME_ID = 'kafu-ts/1';

/** What a node's library OS hands over at a migration: WASI state, other resources, and their bulk bytes. */
export interface SystemState {
  wasi: unknown;
  resources: Record<string, unknown>;
  blobs: Uint8Array[];
}

/** The library OS of one node, as the core needs it. */
export interface NodeSystem extends GuestSystem {
  /** State for node `to` (what it needs may depend on what that node already has). */
  exportState(to: string): SystemState;
  /** A held resource that cannot travel, named for the user; null when everything can. */
  migrationBlocker(): string | null;
  /** Free host handles (open files …) when the program has left this node or ended. */
  release(): void;
}

export interface ProgramHost {
  /** A fresh library OS for `node`, restored from `state` when resuming. */
  createSystem(node: string, state: SystemState | undefined): NodeSystem;
  exitCode(error: unknown): number | undefined;
  /**
   * `snapshot`, which left `node` (and has not run since), made to carry everything of the program's state that the
   * node it goes to might have lost since the program last left it (a whole snapshot: re-sent to a node that lost
   * it, saved to a file). Hosts with nothing of the kind leave it out.
   */
  selfContained?(node: string, snapshot: Snapshot): Snapshot;
}

export type SegmentResult =
  | { kind: 'exited'; node: string; code: number }
  /** `instance`: the suspended instance, whose memory the snapshot's image is a view of (a node may park it). */
  | { kind: 'migrate'; migration: Migration; snapshot: Snapshot; suspendedAt: number; instance: GuestInstance };

export class MigrationRefused extends UserError {}

/** Test harness: move the program to the next node after every `every`-th WASI call (round robin over `nodes`). */
export interface ForcedMigrations {
  every: number;
  nodes: string[];
}

export interface SegmentOptions {
  /** Resume this snapshot instead of starting the program. */
  from?: Snapshot;
  forced?: ForcedMigrations;
  /** Called when a resumed program runs again (its stack rewound): the end of a migration's downtime. */
  onResumed?: () => void;
  /**
   * Run in this instance rather than a fresh one: one prepared ahead, or one the program left on this node (parked),
   * whose memory still holds the image it left with.
   */
  instance?: GuestInstance;
  /**
   * With `instance` and `from`: the memory `instance` holds is the image `from`'s memory is a delta against, and
   * these are the only pages that differ from it (decodeTransfer's `changed`); only they are written.
   */
  changed?: Iterable<number>;
  /**
   * Called after each WASI call the program makes (not proc_exit), with the instance it runs in: the one moment a
   * node's thread may do work beside a running program (serve's pre-copy rounds). Keep it cheap.
   */
  onSystemCall?: (instance: GuestInstance) => void;
}

export function runSegment(guest: GuestModule, node: string, host: ProgramHost, options: SegmentOptions = {}): SegmentResult {
  const { from, forced, onSystemCall } = options;
  if (forced && !guest.meta.systemCallPoints) {
    throw new UserError('forced migrations need a module built with `kafu clang --kafu-syscall-points`');
  }
  if (from) {
    if (from.header.moduleSha256 !== guest.sha256) {
      throw new UserError(
        `snapshot is of module ${from.header.moduleSha256.slice(0, 12)}…, but node ${node} runs ${guest.sha256.slice(0, 12)}…`,
      );
    }
    if (from.header.node !== node) throw new Error(`kafu: snapshot for node ${from.header.node} resumed on ${node}`);
  }
  const stack = new MigrationStack(from?.header.migrationStack);
  const system = host.createSystem(
    node,
    from && { wasi: from.header.wasi, resources: from.header.resources, blobs: from.blobs },
  );
  let systemCalls = from?.header.systemCalls ?? 0;
  const refuseIfBlocked = (m: Migration, where: string) => {
    const blocker = system.migrationBlocker();
    // Refused before suspending: the program stops here with its state (files included) intact.
    if (blocker) throw new MigrationRefused(`cannot migrate ${m.from} -> ${m.to} at ${where}: ${blocker} — it cannot be carried to ${m.to}`);
  };
  const instance = options.instance ?? new GuestInstance(guest);
  instance.bind({
    system,
    exitCode: host.exitCode,
    onResumed: options.onResumed,
    onSystemCall: onSystemCall && (() => onSystemCall(instance)),
    afterSystemCall: forced
      ? (name) => {
          if (++systemCalls % forced.every !== 0 || name === 'proc_exit') return undefined;
          const to = forced.nodes[(forced.nodes.indexOf(node) + 1) % forced.nodes.length]!;
          const m: Migration = { from: node, to, reason: 'forced', fn: name };
          refuseIfBlocked(m, `WASI call ${name}`);
          return m;
        }
      : undefined,
    decide: (point, kind) => {
      const m = stack.pass(point, kind, node);
      if (m) refuseIfBlocked(m, point.fn);
      return m;
    },
  });
  try {
    const outcome = from ? resumeFrom(instance, from, options.changed) : instance.start();
    return finishSegment(guest, node, stack, system, systemCalls, outcome, instance);
  } finally {
    system.release();
  }
}

function resumeFrom(instance: GuestInstance, from: Snapshot, changed: Iterable<number> | undefined) {
  const state = { memory: from.memory, globals: from.header.globals, unwindArea: from.header.unwindArea, resumeValue: from.header.resumeValue };
  return instance.resume(state, changed);
}

function finishSegment(
  guest: GuestModule,
  node: string,
  stack: MigrationStack,
  system: NodeSystem,
  systemCalls: number,
  outcome: RunOutcome,
  instance: GuestInstance,
): SegmentResult {
  if (outcome.kind === 'exited') return { kind: 'exited', node, code: outcome.code };
  const { migration, state, suspendedAt } = outcome;
  const { wasi, resources, blobs } = system.exportState(migration.to);
  return {
    kind: 'migrate',
    migration,
    suspendedAt,
    instance,
    snapshot: {
      header: {
        moduleSha256: guest.sha256,
        node: migration.to,
        migration,
        migrationStack: stack.state(),
        globals: state.globals,
        unwindArea: state.unwindArea,
        resumeValue: state.resumeValue,
        systemCalls,
        wasi,
        resources,
        blobs: blobs.map((b) => b.byteLength),
        memory: { byteLength: state.memory.byteLength, pages: state.memory.pages.length },
        createdBy: RUNTIME_ID,
      },
      memory: state.memory,
      blobs,
    },
  };
}

/** A KAFU_DEST naming a node the config lacks is an error at start. */
export function checkPlacement(meta: KafuMetadata, nodeIds: string[], where: string): void {
  const unknown = meta.points.filter((p) => !nodeIds.includes(p.node));
  if (unknown.length > 0) {
    const list = unknown.map((p) => `KAFU_DEST(${p.fn}, "${p.node}")`).join(', ');
    throw new UserError(`${list} in ${where} names a node the config lacks; configured nodes: ${nodeIds.join(', ')}`);
  }
}

export function describeMigration(m: Migration): string {
  const why = m.reason === 'enter' ? `Entering ${m.fn}` : m.reason === 'return' ? `Returning from ${m.fn}` : `forced after ${m.fn}`;
  return `Migration ${m.from} -> ${m.to} (${why})`;
}
