// Pre-copy, the sending side, in the program's worker: while the program runs on this node, rounds send its memory
// ahead to the node it most likely goes to next (serve.ts precopyTarget), as VM live migration does, so that the
// program's first hop there is a delta against the last round instead of the whole heap.
//
// The worker cannot be told anything while the program runs (its thread is in the wasm), so all of it happens at
// the program's WASI calls (runSegment's onSystemCall): each call reads one shared flag (DUE), which the main thread
// sets when the next step is due (the worker posts 'precopyWake' with the delay after each step; reading the clock
// at every call instead cost ~0.5 µs a call, half the work of a program making a million calls a second). A pass
// compares the memory with the image the peer will hold, 8 MiB of it per WASI call, copying each page that differs
// (torn pages are fine: what the peer holds is exactly the bytes copied, and the hop compares the memory with those).
// The changed pages go out in rounds while the pass goes on: a round (at most 16 MiB of pages) as soon as the last
// one is acknowledged and a round's worth is waiting (any amount once the pass is over), so a large heap's first pass
// is on the wire while it is being compared, not after it (a 256 MiB pass took ~1.3 s to compare and as long again to
// send; the program's stop fell in the second half and its hop waited for it). Each round is a transfer
// (transfer.ts: RAW and ZERO records, a delta against the peer's image, so the receiver validates it like any hop)
// posted to the main thread, which copies it into the messages it sends (with its checksum) off the program's thread:
// the pages are copied into SharedArrayBuffers, which the post shares rather than copies, and nothing writes them
// afterwards (a hop's baseline update, once they are sent). Each step is followed by a rest three times as long (the
// rounds take at most a quarter of the program's thread); comparing waits for the peer when 32 MiB are waiting to be
// sent; the next pass starts no sooner than `intervalMs` after the last one started, and only once the peer
// acknowledged all of it (the main thread writes each round's number into the shared ACKED slot, or STOPPED when the
// peer refused or failed: pre-copy then ends for this run and the hop goes as before).
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
/**
 * A round carries at most this many pages (16 MiB): the program may stop while one is on its way, and its hop then
 * waits for that round (it is a delta against it).
 */
const ROUND_PAGES = 256;
/** Pages compared and not yet sent, at most (32 MiB): comparing waits for the peer beyond that. */
const PENDING_PAGES = 512;
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
  /** A pass over the memory, comparing it with the image the peer will hold once the rounds posted arrive. */
  private pass: { byteLength: number; cursor: number; changed: number; changedAgain: number; startedAt: number } | undefined;
  /** Pages the pass found changed and no round carries yet (undefined: now zero), against `latest`. */
  private readonly pending = new Map<number, Uint8Array | undefined>();
  /** A round posted, waiting for the peer. */
  private sent: { seq: number; image: Image; pages: number } | undefined;
  private seq = 0;
  private passes = 0;
  /** The memory's size when the last pass started (it never shrinks): a round's image is as large. */
  private memoryBytes = 0;
  /** The same for the pass before (the pages a pass can find changed again). */
  private memoryBytesBefore = 0;
  /** Pages the rounds of the last pass carried. */
  private passSent = 0;
  /** performance.now() when the last pass started; the next starts no sooner than `nextPassAt`. */
  private lastStart = -Infinity;
  private nextPassAt = -Infinity;
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

  /** The image the peer holds once the round posted arrives: what the pass compares with and the next round is against. */
  private get latest(): Image {
    return this.sent?.image ?? this.held;
  }

  /** The program starts running here: the first pass is due after `afterMs`. */
  begin(): void {
    if (!this.off) this.wake(this.o.afterMs);
  }

  /**
   * At each WASI call of the program (runSegment onSystemCall): a step, when one is due. A pass compares the memory a
   * slice at a time; the pages it finds changed go out in rounds while it goes on (a round as soon as the last one is
   * acknowledged), so that a large heap's first pass is on the wire while it is being compared rather than after.
   */
  tick(instance: { memoryBuffer: ArrayBuffer }): void {
    if (Atomics.load(this.control, DUE) === 0 || this.off) return;
    Atomics.store(this.control, DUE, 0);
    if (Atomics.load(this.control, STOPPED) !== 0) return this.stop();
    const now = performance.now();
    const s = this.sent;
    if (s && Atomics.load(this.control, ACKED) === s.seq) {
      this.held = s.image;
      this.sent = undefined;
      this.log.debug(`pre-copy round ${s.seq} to ${this.o.to} acknowledged (${s.pages} pages, image ${s.image.id})`);
      if (!this.pass && this.pending.size === 0) this.scheduleNextPass(now);
    }
    this.postRound();
    if (!this.pass) {
      // (Waiting for the peer's answer: the main thread wakes the worker with it.)
      if (this.sent || this.pending.size > 0) return;
      if (now < this.nextPassAt) return this.wake(this.nextPassAt - now);
      this.pass = { byteLength: instance.memoryBuffer.byteLength, cursor: 0, changed: 0, changedAgain: 0, startedAt: now };
      this.passSent = 0;
      this.memoryBytesBefore = this.memoryBytes;
      this.memoryBytes = this.pass.byteLength;
      this.lastStart = now;
    }
    // Compared pages waiting beyond the bound: the answer to the round on its way wakes the worker.
    if (this.pending.size >= PENDING_PAGES) return;
    this.compareSlice(this.pass, instance.memoryBuffer);
    const took = performance.now() - now;
    this.spent += took;
    this.steps++;
    if (!this.off) this.postRound();
    if (this.pass) this.wake(took * REST);
  }

  /** The next step in `ms` (the main thread sets DUE then). */
  private wake(ms: number): void {
    this.post({ type: 'precopyWake', inMs: Math.max(0, ms) });
  }

  /**
   * The program stopped at a migration point for node `to` (or ended): pre-copy is over on this node (pages compared
   * but not sent are dropped). Returns the image the hop to `to` is a delta against: the last round posted (the main
   * thread waits for the peer's answer before the hop — a round is at most ROUND_PAGES — and should it refuse, the
   * hop is refused as a delta and sent whole), or undefined (no round, or `to` is another node).
   */
  finish(to: string | undefined): Baseline | undefined {
    if (this.finished) return undefined;
    this.finished = this.off = true;
    this.pass = undefined;
    this.pending.clear();
    this.log.debug(`pre-copy to ${this.o.to} over: ${this.seq} rounds, ${this.steps} steps took ${this.spent.toFixed(1)} ms of the program's thread`);
    if (to !== this.o.to || Atomics.load(this.control, STOPPED) !== 0) return undefined;
    const image = this.latest;
    if (image.id === INITIAL_BASELINE_ID) return undefined;
    const pages: MemoryImage['pages'] = [];
    image.table.forEach((data, index) => data && pages.push({ index, data }));
    return { id: image.id, memory: { byteLength: image.byteLength, pages } };
  }

  /** The peer refused or failed a round (STOPPED): none is sent again, and the hop does without them. */
  private stop(): void {
    this.off = true;
    this.pass = undefined;
    this.pending.clear();
    this.sent = undefined;
  }

  private compareSlice(r: NonNullable<PrecopySender['pass']>, memory: ArrayBuffer): void {
    if (this.view?.buffer !== memory) this.view = new Uint8Array(memory);
    const count = r.byteLength / PAGE_SIZE;
    const end = Math.min(count, r.cursor + SLICE_PAGES);
    const latest = this.latest.table;
    const differ: number[] = [];
    for (let index = r.cursor; index < end; index++) {
      const page = this.view.subarray(index * PAGE_SIZE, (index + 1) * PAGE_SIZE);
      if (compare(page, latest[index] ?? ZERO_PAGE) !== 0) differ.push(index);
    }
    // One buffer for the slice's copies: what the peer will hold of these pages (shared: posted without a copy).
    const copies = new Uint8Array(new SharedArrayBuffer(differ.length * PAGE_SIZE));
    differ.forEach((index, i) => {
      const page = this.view!.subarray(index * PAGE_SIZE, (index + 1) * PAGE_SIZE);
      // (A page the peer lacks differs from zero already.)
      if (latest[index] && compare(page, ZERO_PAGE) === 0) this.pending.set(index, undefined);
      else {
        const copy = copies.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
        copy.set(page);
        this.pending.set(index, copy);
      }
    });
    r.changed += differ.length;
    // (Pages beyond the last pass's memory are new, not changed again: a heap that grew since.)
    const known = this.passes > 0 ? this.memoryBytesBefore / PAGE_SIZE : 0;
    r.changedAgain += differ.filter((index) => index < known).length;
    r.cursor = end;
    if (end < count) return;
    this.pass = undefined;
    this.passes++;
    if (this.passes > 1 && 2 * r.changedAgain > count) {
      // The program rewrites its memory faster than passes can follow: rounds would cost it without shrinking the hop.
      // The hop is a delta against the last round posted. (Counted against the memory as it is now: a pass at
      // start-up, before the heap is made, sees little more than the stack and data, which change again.)
      this.log.debug(`pre-copy to ${this.o.to} ends: ${r.changedAgain} of ${count} pages changed again in pass ${this.passes}`);
      this.off = true;
      this.pending.clear();
      return;
    }
    this.log.debug(`pre-copy pass ${this.passes} to ${this.o.to}: ${r.changed} of ${count} pages differed, compared over ${(performance.now() - r.startedAt).toFixed(0)} ms`);
    if (this.pending.size === 0 && !this.sent) {
      const now = performance.now();
      this.scheduleNextPass(now);
      this.wake(this.nextPassAt - now);
    }
  }

  /**
   * A pass is over and all it found acknowledged: the next no sooner than intervalMs after it started, nor, after a
   * pass that sent a round's worth or more, than twice as long as it took from its start to the last answer (on a
   * loaded machine its rounds, their TLS and the receiver's writes, take at most a third of the time). A pass that
   * sent less waited for latency rather than work: one at start-up, before the heap is made, finds a few pages, and
   * its answer under load (~0.3-0.5 s) put off the pass that finds the heap by twice as long.
   */
  private scheduleNextPass(now: number): void {
    const paced = this.passSent >= ROUND_PAGES ? 2 * (now - this.lastStart) : 0;
    this.nextPassAt = now + Math.max(this.lastStart + this.o.intervalMs - now, paced);
  }

  /**
   * Unless a round is on its way, the pages compared so far (at most ROUND_PAGES of them) go as the next round: a
   * transfer against the image the peer holds, posted to the main thread. Waits for a full round while the pass goes on.
   */
  private postRound(): void {
    if (this.sent || this.pending.size === 0 || (this.pass && this.pending.size < ROUND_PAGES)) return;
    const held = this.held;
    const indices = [...this.pending.keys()].sort((a, b) => a - b).slice(0, ROUND_PAGES);
    const byteLength = Math.max(held.byteLength, this.memoryBytes);
    const count = byteLength / PAGE_SIZE;
    const table = held.table.slice();
    table.length = Math.max(table.length, count);
    const records: Uint8Array[] = [];
    const write = recordWriter(indices.length, records);
    for (const index of indices) {
      const data = this.pending.get(index);
      this.pending.delete(index);
      write(index, data ? RAW : ZERO, data ?? NO_BYTES);
      table[index] = data;
    }
    const image: Image = { id: newBaselineId(), byteLength, table };
    const input: SnapshotInput = { header: roundHeader(this.header.moduleSha256, this.o.to), memory: { byteLength, pages: [] }, blobs: [] };
    const heldPages = held.table.reduce((n, p) => (p ? n + 1 : n), 0);
    const chunks = encodeFrame(
      TRANSFER_VERSION,
      input,
      { byteLength, pages: indices.length, id: image.id, baseline: { id: held.id, byteLength: held.byteLength, pages: heldPages } },
      records,
      false,
    );
    this.sent = { seq: ++this.seq, image, pages: indices.length };
    this.passSent += indices.length;
    this.log.debug(`pre-copy round ${this.seq} to ${this.o.to}: ${indices.length} of ${count} pages differ from image ${held.id}`);
    // (The records' heads and the header are copied by the post, the pages shared.)
    this.post({ type: 'precopyRound', to: this.o.to, seq: this.seq, imageId: image.id, pages: indices.length, chunks });
  }
}
