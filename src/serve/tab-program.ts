// A browser node's program "worker": instead of a thread of this process, the tab connected to the bridge
// (browser-bridge.ts) runs the program. It offers serve.ts what ProgramWorker offers (resume a hand-off, hand back
// the stopped program encoded, stop) and turns the tab's messages into the same events. Every message from the
// tab is hostile: checked as a frame (browser/tab-protocol.ts), against the state of the conversation, and a
// snapshot it sends with the decoder and limits of any hand-off; anything wrong disconnects the tab, and the bridge
// stays up. A tab that goes while it holds the program is `onLost` (serve.ts: as a node that died).
//
// Page deltas (cluster.migration.memory_migration: delta) work as between two node processes: this side decodes
// every snapshot that goes into or comes out of the tab, so it holds the same memory baseline as the tab (the
// last hop's image) and can check, and re-encode whole, a delta the tab sends.
import type { WebSocket } from 'ws';
import type { Logger } from '../core/log.js';
import { GuestModule, INITIAL_BASELINE_ID } from '../core/guest.js';
import type { ChecksumMode, FrameLimits, Snapshot } from '../core/snapshot.js';
import { MissingBaselineError, decodeTransfer, encodeTransfer, maxTransferBytes, type Baseline, type Compression } from '../core/transfer.js';
import { concat } from '../core/wasm-sections.js';
import { MAX_OUTPUT_BYTES, decodeFrame, encodeFrame, fromTabSchema, FrameError, type FromTab, type ToTab } from '../browser/tab-protocol.js';
import { GatheredResume } from './gathered-resume.js';
import { migrateBody } from './migrate-body.js';
import type { WorkerEvent } from './program-worker.js';
import { withSavedOutput, type SavedOutput } from './saved-program.js';
import type { Encoded } from './worker-messages.js';

export interface TabProgramOptions {
  node: string;
  /** Every node of the cluster. */
  nodes: string[];
  /** The setup message every tab gets first, with the module. */
  setup: Extract<ToTab, { type: 'setup' }>;
  moduleBytes: Uint8Array;
  moduleSha256: string;
  limits: FrameLimits;
  compression: Compression;
  /** How long a hand-off waits for a tab to connect. */
  tabWaitMs: number;
  /** Where to open the page (for messages). */
  url: () => string;
  log: Logger;
  onEvent(e: WorkerEvent): void;
  /** The tab went away (closed, disconnected, refused for a bad message) while it held the program. */
  onLost(why: string): void;
}

/** Where the conversation with the connected tab is ('departing': its snapshot is being checked). */
type TabState = 'setting-up' | 'ready' | 'resuming' | 'running' | 'departing';

export class TabProgram {
  private tab: { ws: WebSocket; state: TabState } | undefined;
  private readyWaiters: (() => void)[] = [];
  /** The program as the tab last handed it on (for a whole re-encoding: a saved file, a checkpoint). */
  private pending: Snapshot | undefined;
  /** The memory image of the tab's last hop, which the tab holds too (delta migrations). */
  private baseline: Baseline | undefined;
  private guest: Promise<GuestModule> | undefined;
  private stopped = false;

  constructor(private readonly o: TabProgramOptions) {}

  /** A tab connected (the bridge checked its token, and that no other is). */
  connect(ws: WebSocket): void {
    const tab = { ws, state: 'setting-up' as TabState };
    this.tab = tab;
    ws.on('message', (data, isBinary) => {
      if (this.tab !== tab) return;
      try {
        if (!isBinary) throw new FrameError('a text message (frames are binary)');
        this.receive(tab, new Uint8Array(data as Buffer));
      } catch (e) {
        this.violation(tab, e instanceof FrameError ? e.message : `internal error: ${(e as Error).message}`);
      }
    });
    ws.on('close', () => this.drop(tab, 'its tab closed or lost the connection'));
    ws.send(encodeFrame(this.o.setup, this.o.moduleBytes));
  }

  start(): void {
    // (config.ts: a browser node is never the first node, which starts the program.)
    this.o.onEvent({ type: 'failed', message: `browser node ${this.o.node} cannot start the program`, user: true });
  }

  /** Hand the program to the tab: once one is connected and ready, within the wait. */
  resume(transfer: Uint8Array | Uint8Array[], suspendedAtMs: number, checksum: ChecksumMode = 'check'): void {
    // (A Migrate call's pieces, protocol.ts: the tab takes one frame.)
    const bytes = Array.isArray(transfer) ? concat(transfer) : transfer;
    const refuse = (message: string, wholeNeeded = false) => {
      this.baseline = undefined; // a delta may have changed its pages; the tab drops its own on a refusal too
      this.o.onEvent({ type: 'refused', message, baselineId: undefined, ...(wholeNeeded ? { wholeNeeded } : {}) });
    };
    void (async () => {
      // Decoded here first: a snapshot that is no good never reaches the tab, and the baselines stay in step.
      // A delta against an image the tab does not hold (it replaced the tab that held it) is sent again whole.
      try {
        this.baseline = (await this.decode(bytes, checksum)).baseline;
      } catch (e) {
        return refuse((e as Error).message, e instanceof MissingBaselineError);
      }
      const tab = await this.readyTab();
      if (!tab) {
        return refuse(`no browser tab is connected to node ${this.o.node} (waited ${Math.round(this.o.tabWaitMs / 1000)} s, nodes.${this.o.node}.browser.tab_wait_s): open ${this.o.url()}`);
      }
      tab.state = 'resuming';
      tab.ws.send(encodeFrame({ type: 'resume', suspendedAtMs }, bytes));
    })();
  }

  private readonly gathered = new GatheredResume((pieces, suspendedAtMs, checksum) => this.resume(pieces, suspendedAtMs, checksum));
  /** A hand-off in pieces (NodeWorker): the tab takes it whole, so the pieces are gathered. */
  resumeBegin(totalBytes: number, suspendedAtMs: number, checksum: ChecksumMode = 'check'): void {
    this.gathered.begin(totalBytes, suspendedAtMs, checksum);
  }

  resumePiece(bytes: Uint8Array): void {
    this.gathered.piece(bytes);
  }

  resumeEnd(): void {
    this.gathered.end();
  }

  resumeAbort(): void {
    this.gathered.abort();
  }

  /** (NodeWorker) The tab holds nothing back for after a hop. */
  departed(): void {}

  /** A transfer into or out of the tab, against the baseline both sides hold or the module's initial image. */
  private async decode(bytes: Uint8Array, checksum: ChecksumMode = 'check') {
    const guest = await (this.guest ??= GuestModule.load(this.o.moduleBytes, this.o.setup.programName));
    const held = (id: string) =>
      this.baseline?.id === id ? this.baseline.memory : id === INITIAL_BASELINE_ID ? guest.initialBaseline().memory : undefined;
    return decodeTransfer(bytes, held, this.o.limits, checksum);
  }

  /** The program the tab handed on last, encoded whole again; with `output` inside (a saved file). */
  async encodeFull(output?: SavedOutput): Promise<Encoded> {
    const snapshot = output ? withSavedOutput(this.pending!, output) : this.pending!;
    const { chunks, stats, baseline } = encodeTransfer(snapshot, { compression: this.o.compression });
    // The tab's baseline keeps the id of its own encoding: no node's delta against this one can reach it.
    return { body: migrateBody(chunks), stats, snapshotId: baseline.id, delta: false, baselineId: undefined };
  }

  async stop(message = 'the run ended'): Promise<void> {
    this.stopped = true;
    const tab = this.tab;
    this.tab = undefined;
    if (tab && tab.ws.readyState === tab.ws.OPEN) {
      // The page says the run is over; a tab that does not close in a moment is closed by the bridge.
      tab.ws.send(encodeFrame({ type: 'ended', message }));
      const closed = new Promise((r) => tab.ws.once('close', r));
      tab.ws.close(1000);
      await Promise.race([closed, new Promise((r) => setTimeout(r, 500))]);
    }
    for (const w of this.readyWaiters.splice(0)) w();
  }

  private readyTab(): Promise<{ ws: WebSocket; state: TabState } | undefined> {
    if (this.tab?.state === 'ready') return Promise.resolve(this.tab);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), this.o.tabWaitMs);
      const done = () => {
        clearTimeout(timer);
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        resolve(this.tab?.state === 'ready' && !this.stopped ? this.tab : undefined);
      };
      this.readyWaiters.push(done);
    });
  }

  private receive(tab: { ws: WebSocket; state: TabState }, frame: Uint8Array): void {
    const limit = (m: FromTab) =>
      m.type === 'suspended' ? maxTransferBytes(this.o.limits) : m.type === 'output' ? MAX_OUTPUT_BYTES : 0;
    const { message: m, bytes } = decodeFrame(frame, fromTabSchema, limit);
    const expect = (...states: TabState[]) => {
      if (!states.includes(tab.state)) throw new FrameError(`a ${m.type} message while the tab is ${tab.state}`);
    };
    switch (m.type) {
      case 'ready':
        expect('setting-up');
        tab.state = 'ready';
        for (const w of this.readyWaiters.splice(0)) w();
        return;
      case 'log':
        this.o.log.debug(`tab of ${this.o.node}: ${m.line}`);
        return;
      case 'resumed':
        expect('resuming');
        tab.state = 'running';
        this.pending = undefined; // the program runs in the tab again
        return this.o.onEvent({ type: 'resumed', downtimeMs: m.downtimeMs, baselineId: this.baseline?.id });
      case 'refused':
        expect('resuming');
        tab.state = 'ready';
        this.baseline = undefined;
        return this.o.onEvent({
          type: 'refused',
          message: `the tab refused it: ${m.message}`,
          baselineId: undefined,
          ...(m.wholeNeeded === true ? { wholeNeeded: true } : {}),
        });
      case 'output':
        expect('running');
        return this.o.onEvent({ type: 'output', fd: m.fd, data: bytes.slice() });
      case 'suspended': {
        expect('running');
        tab.state = 'departing';
        void this.checkSnapshot(bytes.slice(), m.encodeMs).then(
          (encoded) => {
            if (this.tab === tab) tab.state = 'ready';
            this.o.onEvent({ type: 'suspended', migration: this.pending!.header.migration!, suspendedAtMs: m.suspendedAtMs, encoded });
          },
          (e: Error) => this.violation(tab, e instanceof FrameError ? e.message : `internal error: ${e.message}`, 'running'),
        );
        return;
      }
      case 'exited':
      case 'trapped':
      case 'failed':
        expect('running');
        tab.state = 'ready';
        return this.o.onEvent(m);
    }
  }

  /**
   * A snapshot from the tab, checked as any hand-off is (checksum, format, limits; whole: the tab holds no baseline
   * another node has) and as this node's departure: of this module, leaving this node for another.
   */
  private async checkSnapshot(bytes: Uint8Array, encodeMs: number): Promise<Encoded> {
    let decoded;
    try {
      decoded = await this.decode(bytes);
    } catch (e) {
      this.baseline = undefined;
      throw new FrameError(`a snapshot that does not decode: ${(e as Error).message}`);
    }
    const { header } = decoded.snapshot;
    const m = header.migration;
    if (header.moduleSha256 !== this.o.moduleSha256) throw new FrameError('a snapshot of another module');
    if (!m || m.from !== this.o.node || m.to !== header.node || m.to === this.o.node) {
      throw new FrameError(`a snapshot that is no departure from ${this.o.node}`);
    }
    if (!this.o.nodes.includes(m.to)) throw new FrameError(`a snapshot for ${m.to}, no node of this cluster`);
    this.pending = decoded.snapshot;
    this.baseline = decoded.baseline;
    const against = decoded.against;
    const stats = { rawBytes: header.memory.byteLength, sentBytes: bytes.byteLength, pagesSent: header.memory.pages, pagesUnchanged: 0, encodeMs };
    // (A delta against the module's initial image is a first hop, logged as whole, as from any node.)
    return { body: migrateBody([bytes]), stats, snapshotId: decoded.baseline.id, delta: against !== undefined && against !== INITIAL_BASELINE_ID, baselineId: this.baseline.id };
  }

  /** The tab sent `why`: it is disconnected (as it was in `state`, for what it held). */
  private violation(tab: { ws: WebSocket; state: TabState }, why: string, state?: TabState): void {
    this.o.log.warn(`browser node ${this.o.node}: refused a message from the tab: ${why}; the tab is disconnected`);
    if (state) tab.state = state;
    tab.ws.close(1008, why.slice(0, 120));
    this.drop(tab, `its tab sent ${why}`);
  }

  private drop(tab: { ws: WebSocket; state: TabState }, why: string): void {
    if (this.tab !== tab) return;
    this.tab = undefined;
    this.baseline = undefined; // the image it held went with it: a tab that connects next holds none
    if (this.stopped) return;
    this.o.log.info(`browser node ${this.o.node}: ${why}`);
    if (tab.state === 'resuming') this.o.onEvent({ type: 'refused', message: `${why} before the program ran there`, baselineId: undefined });
    else if (tab.state === 'running') this.o.onLost(why);
  }
}
