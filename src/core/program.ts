// One stretch of a program's life on one node: start (or resume a snapshot) there, run until the program ends
// or calls for another node, and turn a suspension into a snapshot for that node. Used by every runtime mode.
import { UserError } from './errors.js';
import { GuestInstance, type GuestModule, type GuestSystem } from './guest.js';
import type { KafuMetadata } from './metadata.js';
import { MigrationStack, type Migration } from './migration-stack.js';
import type { Snapshot } from './snapshot.js';

export const RUNTIME_ID = 'kafu-ts/1';

/** The library OS of one node, as the core needs it. */
export interface NodeSystem extends GuestSystem {
  exportState(): unknown;
  /** A held resource that cannot travel, named for the user; null when everything can. */
  migrationBlocker(): string | null;
}

export interface ProgramHost {
  /** A fresh library OS for `node`, restored from `state` when resuming. */
  createSystem(node: string, state: unknown | undefined): NodeSystem;
  exitCode(error: unknown): number | undefined;
}

export type SegmentResult =
  | { kind: 'exited'; node: string; code: number }
  | { kind: 'migrate'; migration: Migration; snapshot: Snapshot };

export class MigrationRefused extends UserError {}

export function runSegment(guest: GuestModule, node: string, host: ProgramHost, from?: Snapshot): SegmentResult {
  if (from) {
    if (from.header.moduleSha256 !== guest.sha256) {
      throw new UserError(
        `snapshot is of module ${from.header.moduleSha256.slice(0, 12)}…, but node ${node} runs ${guest.sha256.slice(0, 12)}…`,
      );
    }
    if (from.header.node !== node) throw new Error(`kafu: snapshot for node ${from.header.node} resumed on ${node}`);
  }
  const stack = new MigrationStack(from?.header.migrationStack);
  const system = host.createSystem(node, from?.header.wasi);
  const instance = new GuestInstance(guest, {
    system,
    exitCode: host.exitCode,
    decide: (point, kind) => {
      const m = stack.pass(point, kind, node);
      const blocker = m && system.migrationBlocker();
      // Refused before suspending: the program stops here with its state (files included) intact.
      if (blocker) throw new MigrationRefused(`cannot migrate ${m.from} -> ${m.to} at ${point.fn}: ${blocker} cannot be carried`);
      return m;
    },
  });
  const outcome = from
    ? instance.resume({ memory: from.memory, globals: from.header.globals, unwindArea: from.header.unwindArea })
    : instance.start();
  if (outcome.kind === 'exited') return { kind: 'exited', node, code: outcome.code };
  const { migration, state } = outcome;
  return {
    kind: 'migrate',
    migration,
    snapshot: {
      header: {
        moduleSha256: guest.sha256,
        node: migration.to,
        migration,
        migrationStack: stack.state(),
        globals: state.globals,
        unwindArea: state.unwindArea,
        wasi: system.exportState(),
        resources: {},
        memory: { byteLength: state.memory.byteLength, pages: 0 },
        createdBy: RUNTIME_ID,
      },
      memory: state.memory,
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
  return `Migration ${m.from} -> ${m.to} (${m.reason === 'enter' ? 'Entering' : 'Returning from'} ${m.fn})`;
}
