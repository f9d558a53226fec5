// The streamed resume of NodeWorker (program-worker.ts: resumeBegin, resumePiece, resumeEnd, resumeAbort) for a
// program runner that takes a hand-off whole (a browser tab, tab-program.ts): the pieces are gathered, then handed
// to its `resume` at the end. (Their length is bounded by the caller: it checked the declared length.)
import type { ChecksumMode } from '../core/snapshot.js';

export class GatheredResume {
  private gathering: { pieces: Uint8Array[]; suspendedAtMs: number; checksum: ChecksumMode } | undefined;

  constructor(private readonly resume: (pieces: Uint8Array[], suspendedAtMs: number, checksum: ChecksumMode) => void) {}

  begin(_totalBytes: number, suspendedAtMs: number, checksum: ChecksumMode = 'check'): void {
    this.gathering = { pieces: [], suspendedAtMs, checksum };
  }

  piece(bytes: Uint8Array): void {
    this.gathering?.pieces.push(bytes);
  }

  end(): void {
    const g = this.gathering;
    this.gathering = undefined;
    if (g) this.resume(g.pieces, g.suspendedAtMs, g.checksum);
  }

  abort(): void {
    this.gathering = undefined;
  }
}
