// The main thread's handle on the worker that runs the program (worker.ts): typed messages, and a promise for the
// one reply the main thread waits for (the encoded snapshot). Output, logs and outcomes arrive as events.
import { Worker } from 'node:worker_threads';
import type { ChecksumMode } from '../core/snapshot.js';
import { engineStackMb } from '../node/engine-stack.js';
import type { StorageIds } from '../node/node-system.js';
import type { SavedOutput } from './saved-program.js';
import type { SocketRef } from '../wasi/sockets.js';
import { BodyTail, buffersOf } from './migrate-body.js';
import type { Encoded, FromWorker, ToWorker, WorkerSetup } from './worker-messages.js';

export type WorkerEvent = Exclude<FromWorker, { type: 'encoded' | 'ready' | 'closed' | 'bodyPart' }>;

/** What runs a node's program: this class (a thread of the process), or a browser tab (tab-program.ts). */
export type NodeWorker = Pick<ProgramWorker, 'start' | 'resume' | 'resumeBegin' | 'resumePiece' | 'resumeEnd' | 'resumeAbort' | 'departed' | 'encodeFull' | 'stop'> &
  /** (A browser tab takes no pre-copy rounds.) */
  Partial<Pick<ProgramWorker, 'precopy' | 'precopyBegin'>>;

/** How long stop() waits for the worker to release its native resources. */
const CLOSE_MS = 1000;

export class ProgramWorker {
  private readonly worker: Worker;
  private encoded: ((r: Encoded) => void) | undefined;
  private stopped = false;
  private closed: (() => void) | undefined;
  /** Messages for the worker until it says it listens (worker-messages.ts, 'ready'); then undefined. */
  private early: [ToWorker, ArrayBuffer[] | undefined][] | undefined = [];
  /** The body of the last 'suspended' whose parts are still coming, and that event where it waits for them. */
  private coming: { snapshotId: string; tail: BodyTail; held?: WorkerEvent } | undefined;

  /**
   * `streamBodies`: a 'suspended' event comes as soon as the first part of its body is here, the others following
   * into its `tail` (a node's hand-off sends them as they come); else once all of it is.
   */
  constructor(setup: WorkerSetup, onEvent: (e: WorkerEvent) => void, { streamBodies = false } = {}) {
    // The program's thread gets an engine stack for deep recursion (node/engine-stack.ts).
    this.worker = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: setup,
      resourceLimits: { stackSizeMb: engineStackMb() },
      transferList: setup.sockets ? [setup.sockets.port] : [],
    });
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        const early = this.early ?? [];
        this.early = undefined;
        for (const [msg, transfer] of early) this.worker.postMessage(msg, transfer);
      } else if (m.type === 'closed') {
        this.closed?.();
      } else if (m.type === 'encoded') {
        const resolve = this.encoded;
        this.encoded = undefined;
        resolve?.(m.encoded);
      } else if (m.type === 'suspended' && m.encoded.more) {
        const tail = new BodyTail(m.encoded.body);
        this.coming = { snapshotId: m.encoded.snapshotId, tail, ...(!streamBodies && { held: m }) };
        if (streamBodies) onEvent({ ...m, encoded: { ...m.encoded, body: Object.assign(m.encoded.body, { tail }) } });
      } else if (m.type === 'bodyPart') {
        const c = this.coming;
        if (c?.snapshotId !== m.snapshotId) return;
        c.tail.add(m.messages, m.last);
        if (!m.last) return;
        this.coming = undefined;
        if (c.held) onEvent(c.held);
      } else onEvent(m);
    });
    this.worker.on('error', (e) => onEvent({ type: 'failed', message: `program worker: ${e.message}`, user: false }));
    this.worker.on('exit', (code) => {
      if (!this.stopped) onEvent({ type: 'failed', message: `program worker ended unexpectedly (code ${code})`, user: false });
    });
  }

  start(storage: StorageIds, listeners?: SocketRef[]): void {
    this.send({ type: 'start', storage, listeners });
  }

  /** `bytes`: the transfer, whole or in pieces; their buffers move to the worker (nothing else may hold them). */
  resume(bytes: Uint8Array | Uint8Array[], suspendedAtMs: number, checksum: ChecksumMode = 'check'): void {
    const pieces = Array.isArray(bytes) ? bytes : [bytes];
    this.send({ type: 'resume', bytes: pieces, suspendedAtMs, checksum }, buffersOf(pieces));
  }

  /**
   * A hand-off streamed in as its bytes arrive: begin (the length its sender declared; `checksum` 'checked' if the
   * caller checks it as the bytes arrive and has, before resumeEnd), the pieces in order (each moves to the worker:
   * nothing else may hold its buffer), then end; the outcome comes as for `resume`. resumeAbort drops one whose
   * bytes stopped coming (no outcome).
   */
  resumeBegin(totalBytes: number, suspendedAtMs: number, checksum: ChecksumMode = 'check'): void {
    this.send({ type: 'resumeBegin', totalBytes, suspendedAtMs, checksum });
  }

  /** A pre-copy round from node `from`, whole (precopy.ts); answered 'precopied' or 'refused'. */
  precopy(from: string, bytes: Uint8Array[], checksum: ChecksumMode = 'check'): void {
    this.send({ type: 'precopy', from, bytes, checksum }, buffersOf(bytes));
  }

  /** The same streamed: its pieces then go as resumePiece, resumeEnd, resumeAbort. */
  precopyBegin(from: string, totalBytes: number, checksum: ChecksumMode = 'check'): void {
    this.send({ type: 'precopyBegin', from, totalBytes, checksum });
  }

  resumePiece(bytes: Uint8Array): void {
    this.send({ type: 'resumePiece', bytes }, buffersOf([bytes]));
  }

  resumeEnd(): void {
    this.send({ type: 'resumeEnd' });
  }

  resumeAbort(): void {
    this.send({ type: 'resumeAbort' });
  }

  /**
   * The hop the program left in is done, or given up: work the worker held back so as not to slow it may run.
   * `sent`: what that hop sent; its buffer goes back to the worker (which keeps the pages in it as its baseline),
   * so nothing here may use it afterwards.
   */
  departed(sent?: Encoded): void {
    const buffers = sent ? buffersOf(sent.body.messages) : [];
    // (Moved once: a buffer moved already reads as empty.)
    if (buffers.length === 0 || sent!.body.tail?.done === false || buffers.some((b) => !(b instanceof ArrayBuffer) || b.byteLength === 0)) {
      return this.send({ type: 'departed' });
    }
    this.send({ type: 'departed', snapshotId: sent!.snapshotId, buffers }, buffers);
  }

  /** Encode the suspended program again, whole; with `output`, undelivered, inside (for a saved file). */
  encodeFull(output?: SavedOutput): Promise<Encoded> {
    return new Promise((resolve) => {
      this.encoded = resolve;
      this.send({ type: 'encode', output });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Native resources are released on the worker's own thread first (bounded: a worker stuck in the program is
    // terminated all the same).
    if (!this.early) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_MS);
        this.closed = () => {
          clearTimeout(timer);
          resolve();
        };
        this.worker.postMessage({ type: 'close' } satisfies ToWorker);
      });
    }
    await this.worker.terminate();
  }

  private send(m: ToWorker, transfer?: ArrayBuffer[]): void {
    if (this.early) this.early.push([m, transfer]);
    else this.worker.postMessage(m, transfer);
  }
}
