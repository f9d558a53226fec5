// Pre-copy, the sending side, in the program's worker: while the program runs on this node, rounds send its memory
// ahead to the node it most likely goes to next (serve.ts precopyTarget), as VM live migration does, so that the
// program's first hop there is a delta against the last round instead of the whole heap.
//
// The worker cannot be told anything while the program runs (its thread is in the wasm), so all of it happens at
// the program's WASI calls (runSegment's onSystemCall): each call reads one shared flag (DUE), which the main thread
// sets when the next step is due (the worker posts 'precopyWake' with the delay after each step; reading the clock
// at every call instead cost ~0.5 µs a call, half the work of a program making a million calls a second). A round
// compares the memory with the image the peer holds, 8 MiB of it per WASI call, copying each page that differs (torn
// pages are fine: what the peer holds is exactly the bytes copied, and the hop compares the memory with those). At
// its end the changed pages become a transfer (transfer.ts: RAW and ZERO records, a delta against the peer's image,
// so the receiver validates it like any hop) posted to the main thread, which copies it into the messages it sends
// (with its checksum) off the program's thread: the pages are copied into SharedArrayBuffers, which the post shares
// rather than copies, and nothing writes them afterwards (a hop's baseline update, once they are sent). Each step
// is followed by a rest three times as long (the rounds take at most a quarter of the program's thread), the next
// round starts no sooner than `intervalMs` after the last one started, and only once the peer acknowledged it (the
// main thread writes its number into the shared ACKED slot, or STOPPED when the peer refused or failed: pre-copy
// then ends for this run and the hop goes as before).
import { MigrationStack } from '../core/migration-stack.js';
import { RUNTIME_ID } from '../core/program.js';
import { PAGE_SIZE, encodeFrame, type MemoryImage, type SnapshotInput } from '../core/snapshot.js';
import { INITIAL_BASELINE_ID, newBaselineId, type Baseline } from '../core/transfer.js';
import { RAW, TRANSFER_VERSION, ZERO, pageCount, pageTable, recordWriter } from '../core/transfer-format.js';
import type { Logger } from '../core/log.js';
import type { FromWorker, PrecopySetup } from './worker-messages.js';

/**
 * Slots of PrecopySetup.control: the last round the peer holds; 1 once pre-copy is off for this run; 1 when a step
 * is due (set by the main thread, cleared by the worker).
 */
export const ACKED = 0;
export const STOPPED = 1;
export const DUE = 2;
export const CONTROL_SLOTS = 3;

/** Pages compared (and copied where they differ) at one WASI call: 8 MiB. */
const SLICE_PAGES = 128;
/** After a step of t ms, none for REST × t: rounds take at most a quarter of the program's thread. */
const REST = 3;
const ZERO_PAGE = new Uint8Array(PAGE_SIZE);
const NO_BYTES = new Uint8Array();
const compare = (globalThis as { Buffer?: { compare(a: Uint8Array, b: Uint8Array): number } }).Buffer!.compare;

/** A memory image by page index (holes: zero pages), as the peer holds it. */
interface Image {
  id: string;
  byteLength: number;
  table: (Uint8Array | undefined)[];
}

/** A round's transfer header: it carries no program state, only whose memory this is and for which node. */
export function roundHeader(moduleSha256: string, to: string): SnapshotInput['header'] {
  return {
    moduleSha256,
    node: to,
    migrationStack: new MigrationStack(undefined).state(),
    systemCalls: 0,
    globals: [],
    unwindArea: { ptr: 0, size: 0 },
    wasi: {},
    resources: {},
    createdBy: RUNTIME_ID,
  };
}

export class PrecopySender {
  private readonly control: Int32Array;
  /** What the peer holds: the module's initial image until a round is acknowledged. */
  private held: Image;
  /** A round comparing the memory: the pages that differ from `held` so far (undefined: now zero). */
  private round: { byteLength: number; cursor: number; changes: Map<number, Uint8Array | undefined>; startedAt: number } | undefined;
  /** A round posted, waiting for the peer. */
  private sent: { seq: number; image: Image; pages: number } | undefined;
  private seq = 0;
  private lastStart = -Infinity;
  /** No more rounds (pre-copy ended, or gave up); `finished`: the program stopped here once. */
  private off = false;
  private finished = false;
  private view: Uint8Array | undefined;
  /** The program's time its steps took (ms), and how many. */
  private spent = 0;
  private steps = 0;

  constructor(
    private readonly o: PrecopySetup,
    initial: Baseline,
    private readonly header: { moduleSha256: string },
    private readonly post: (m: FromWorker, transfer?: ArrayBuffer[]) => void,
    private readonly log: Logger,
  ) {
    this.control = new Int32Array(o.control);
    const count = pageCount(initial.memory.byteLength);
    this.held = { id: initial.id, byteLength: initial.memory.byteLength, table: pageTable(initial.memory, count) };
  }

  /** The program starts running here: the first round is due after `afterMs`. */
  begin(): void {
    if (!this.off) this.wake(this.o.afterMs);
  }

  /** At each WASI call of the program (runSegment onSystemCall): a step of a round, when one is due. */
  tick(instance: { memoryBuffer: ArrayBuffer }): void {
    if (Atomics.load(this.control, DUE) === 0 || this.off) return;
    Atomics.store(this.control, DUE, 0);
    if (Atomics.load(this.control, STOPPED) !== 0) return this.stop();
    const now = performance.now();
    const s = this.sent;
    if (s) {
      // (The main thread sets DUE once the peer answered.)
      if (Atomics.load(this.control, ACKED) !== s.seq) return;
      this.held = s.image;
      this.sent = undefined;
      this.log.debug(`pre-copy round ${s.seq} to ${this.o.to} acknowledged (${s.pages} pages, image ${s.image.id})`);
      // The next round no sooner than intervalMs after this one started, nor than twice as long as this one took from
      // its start to the answer: on a loaded machine rounds (their TLS, the receiver's writes) take at most a third of it.
      return this.wake(Math.max(this.lastStart + this.o.intervalMs - now, 2 * (now - this.lastStart)));
    }
    const memory = instance.memoryBuffer;
    if (!this.round) {
      this.round = { byteLength: memory.byteLength, cursor: 0, changes: new Map(), startedAt: now };
      this.lastStart = now;
    }
    this.compareSlice(this.round, memory);
    const took = performance.now() - now;
    this.spent += took;
    this.steps++;
    // (Waiting for the peer's answer once the round is posted: the main thread wakes the worker with it.)
    if (this.round) this.wake(took * REST);
    else if (!this.sent) this.wake(this.lastStart + this.o.intervalMs - performance.now());
  }

  /** The next step in `ms` (the main thread sets DUE then). */
  private wake(ms: number): void {
    this.post({ type: 'precopyWake', inMs: Math.max(0, ms) });
  }

  /**
   * The program stopped at a migration point for node `to` (or ended): pre-copy is over on this node (a round being
   * compared is dropped). Returns the image the hop to `to` is a delta against: the last round posted (the main
   * thread waits for the peer's answer before the hop; should it refuse, the hop is refused as a delta and sent
   * whole), or undefined (no round, or `to` is another node).
   */
  finish(to: string | undefined): Baseline | undefined {
    if (this.finished) return undefined;
    this.finished = this.off = true;
    this.round = undefined;
    const s = this.sent;
    this.log.debug(`pre-copy to ${this.o.to} over: ${this.seq} rounds, ${this.steps} steps took ${this.spent.toFixed(1)} ms of the program's thread`);
    if (to !== this.o.to || Atomics.load(this.control, STOPPED) !== 0) return undefined;
    const image = s?.image ?? this.held;
    if (image.id === INITIAL_BASELINE_ID) return undefined;
    const pages: MemoryImage['pages'] = [];
    image.table.forEach((data, index) => data && pages.push({ index, data }));
    return { id: image.id, memory: { byteLength: image.byteLength, pages } };
  }

  /** The peer refused or failed a round (STOPPED): none is sent again, and the hop does without them. */
  private stop(): void {
    this.off = true;
    this.round = undefined;
    this.sent = undefined;
  }

  private compareSlice(r: NonNullable<PrecopySender['round']>, memory: ArrayBuffer): void {
    if (this.view?.buffer !== memory) this.view = new Uint8Array(memory);
    const count = r.byteLength / PAGE_SIZE;
    const end = Math.min(count, r.cursor + SLICE_PAGES);
    const differ: number[] = [];
    for (let index = r.cursor; index < end; index++) {
      const page = this.view.subarray(index * PAGE_SIZE, (index + 1) * PAGE_SIZE);
      if (compare(page, this.held.table[index] ?? ZERO_PAGE) !== 0) differ.push(index);
    }
    // One buffer for the slice's copies: what the peer will hold of these pages (shared: posted without a copy).
    const copies = new Uint8Array(new SharedArrayBuffer(differ.length * PAGE_SIZE));
    differ.forEach((index, i) => {
      const page = this.view!.subarray(index * PAGE_SIZE, (index + 1) * PAGE_SIZE);
      // (A page the peer lacks differs from zero already.)
      if (this.held.table[index] && compare(page, ZERO_PAGE) === 0) r.changes.set(index, undefined);
      else {
        const copy = copies.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
        copy.set(page);
        r.changes.set(index, copy);
      }
    });
    r.cursor = end;
    if (end === count) this.endRound(r);
  }

  /** The round's changes as a transfer against the image the peer holds, posted to the main thread. */
  private endRound(r: NonNullable<PrecopySender['round']>): void {
    this.round = undefined;
    if (r.changes.size === 0) return;
    const count = r.byteLength / PAGE_SIZE;
    if (this.seq > 0 && 2 * r.changes.size > count) {
      // The program rewrites its heap faster than rounds can follow: they would cost it without shrinking the hop.
      // The hop is a delta against the last round the peer holds.
      this.log.debug(`pre-copy to ${this.o.to} ends: ${r.changes.size} of ${count} pages changed again since round ${this.seq}`);
      this.off = true;
      return;
    }
    const held = this.held;
    const table = held.table.slice();
    table.length = count;
    const records: Uint8Array[] = [];
    const write = recordWriter(r.changes.size, records);
    for (const index of [...r.changes.keys()].sort((a, b) => a - b)) {
      const data = r.changes.get(index);
      write(index, data ? RAW : ZERO, data ?? NO_BYTES);
      table[index] = data;
    }
    const image: Image = { id: newBaselineId(), byteLength: r.byteLength, table };
    const input: SnapshotInput = { header: roundHeader(this.header.moduleSha256, this.o.to), memory: { byteLength: r.byteLength, pages: [] }, blobs: [] };
    const heldPages = held.table.reduce((n, p) => (p ? n + 1 : n), 0);
    const chunks = encodeFrame(
      TRANSFER_VERSION,
      input,
      { byteLength: r.byteLength, pages: r.changes.size, id: image.id, baseline: { id: held.id, byteLength: held.byteLength, pages: heldPages } },
      records,
      false,
    );
    this.sent = { seq: ++this.seq, image, pages: r.changes.size };
    this.log.debug(
      `pre-copy round ${this.seq} to ${this.o.to}: ${r.changes.size} of ${count} pages differ from image ${held.id} ` +
        `(compared over ${(performance.now() - r.startedAt).toFixed(0)} ms)`,
    );
    // (The records' heads and the header are copied by the post, the pages shared.)
    this.post({ type: 'precopyRound', to: this.o.to, seq: this.seq, imageId: image.id, pages: r.changes.size, chunks });
  }
}
