// Where the program should run next. One frame per KAFU_DEST call that actually moved the program; `depth`
// counts every active KAFU_DEST call (moving or not), so a return migrates back only at the depth whose entry
// migrated. (Kafu records the depth but never checks it at exit, so recursion returns to the wrong node there.)
import type { MigrationPoint } from './metadata.js';

export interface MigrationFrame {
  /** Node the program left when entering `fn`; it returns there when `fn` returns. */
  from: string;
  to: string;
  fn: string;
  depth: number;
}

export interface MigrationStackState {
  depth: number;
  frames: MigrationFrame[];
}

export interface Migration {
  from: string;
  to: string;
  /** `forced`: a test harness moved the program after the WASI call `fn`. */
  reason: 'enter' | 'return' | 'forced';
  fn: string;
}

export const POINT_ENTRY = 0;
export const POINT_EXIT = 1;

export class MigrationStack {
  private depth: number;
  private readonly frames: MigrationFrame[];

  constructor(state: MigrationStackState = { depth: 0, frames: [] }) {
    this.depth = state.depth;
    this.frames = state.frames.map((f) => ({ ...f }));
  }

  /** Record passing a migration point on `current`; returns the migration it calls for, if any. */
  pass(point: MigrationPoint, kind: number, current: string): Migration | undefined {
    if (kind === POINT_ENTRY) {
      this.depth++;
      if (point.node === current) return undefined;
      this.frames.push({ from: current, to: point.node, fn: point.fn, depth: this.depth });
      return { from: current, to: point.node, reason: 'enter', fn: point.fn };
    }
    if (kind !== POINT_EXIT) throw new Error(`kafu: unknown migration point kind ${kind}`);
    if (this.depth === 0) throw new Error(`kafu: exit of ${point.fn} without a matching entry`);
    const top = this.frames.at(-1);
    const depth = this.depth--;
    if (!top || top.depth !== depth) return undefined;
    this.frames.pop();
    // Already back where the call came from (a forced migration moved it meanwhile): nothing to do.
    if (top.from === current) return undefined;
    return { from: current, to: top.from, reason: 'return', fn: point.fn };
  }

  state(): MigrationStackState {
    return { depth: this.depth, frames: this.frames.map((f) => ({ ...f })) };
  }
}
