// Synchronous calls into a helper thread that does asynchronous work. WASI calls are synchronous; ONNX
// Runtime's API is all promises. The caller posts a request on a MessagePort, blocks on Atomics.wait until the
// helper has posted its answer and written the request's number to a shared word, then takes the answer with
// receiveMessageOnPort. The helper answers every request (errors included), in order, so the caller never waits
// for an answer that cannot come.
//
// Bulk bytes (tensors, models) do not go through the messages: cloning a typed array costs tens of µs, more than
// a small model's inference. They are copied into a shared arena instead, and the messages carry offsets.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Errno } from '../wasi/errno.js';

export interface SyncWorkerData {
  port: MessagePort;
  /** [0]: the number of the request last answered (the caller numbers them). */
  flag: Int32Array;
  data: unknown;
}

/** [offset, length] of each blob in the arena. */
type BlobRefs = Array<[number, number]>;

interface Request {
  seq: number;
  request: unknown;
  blobs: BlobRefs;
  /** A new arena (the old one was too small); from then on both sides use it. */
  arena?: SharedArrayBuffer;
}

interface Answer {
  answer: unknown;
  blobs: BlobRefs;
  arena?: SharedArrayBuffer;
}

const align = (n: number) => (n + 7) & ~7;

/** Copies `blobs` into `arena` (a bigger one when it is too small); returns the arena and where each went. */
function pack(arena: SharedArrayBuffer, blobs: readonly Uint8Array[]): { arena: SharedArrayBuffer; refs: BlobRefs; grown: boolean } {
  const total = blobs.reduce((n, b) => n + align(b.byteLength), 0);
  const grown = total > arena.byteLength;
  if (grown) arena = new SharedArrayBuffer(Math.max(total, arena.byteLength * 2));
  const view = new Uint8Array(arena);
  const refs: BlobRefs = [];
  let at = 0;
  for (const b of blobs) {
    view.set(b, at);
    refs.push([at, b.byteLength]);
    at += align(b.byteLength);
  }
  return { arena, refs, grown };
}

/**
 * The calling side of a synchronous channel: a MessagePort and a shared word, whichever thread serves the other end
 * (serveSync) — a helper thread of its own (SyncWorker), or the main thread of a node whose program runs in a worker.
 */
export class SyncCaller {
  private seq = 0;
  private arena = new SharedArrayBuffer(64 * 1024);
  private arenaSent = false;

  constructor(private readonly port: MessagePort, private readonly flag: Int32Array) {}

  /** `blobs` reach the handler as its second argument; the blobs of its answer come back (copies). */
  call<T>(request: unknown, blobs: readonly Uint8Array[] = []): { answer: T; blobs: Uint8Array[] } {
    // Numbered, so that only the answer to this request ends the wait (never a wake-up meant for another).
    const seq = (this.seq = (this.seq + 1) | 0);
    const packed = pack(this.arena, blobs);
    const fresh = packed.grown || !this.arenaSent;
    this.arena = packed.arena;
    this.arenaSent = true;
    this.port.postMessage({ seq, request, blobs: packed.refs, ...(fresh ? { arena: this.arena } : {}) } satisfies Request);
    for (;;) {
      const done = Atomics.load(this.flag, 0);
      if (done === seq) break;
      Atomics.wait(this.flag, 0, done);
    }
    const got = receiveMessageOnPort(this.port);
    if (!got) throw new Error('kafu internal error: helper thread signalled without an answer');
    const a = got.message as Answer;
    if (a.arena) this.arena = a.arena;
    return { answer: a.answer as T, blobs: a.blobs.map(([at, n]) => new Uint8Array(this.arena, at, n).slice()) };
  }
}

/** Both ends of a synchronous channel: `caller` for the thread that blocks, `served` for serveSync. */
export function syncChannel(): { caller: { port: MessagePort; flag: Int32Array }; served: SyncWorkerData } {
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  return { caller: { port: port1, flag }, served: { port: port2, flag, data: undefined } };
}

/** A helper thread that runs `script` (which calls serveSync), called synchronously. */
export class SyncWorker extends SyncCaller {
  private readonly worker: Worker;

  constructor(script: URL, data?: unknown) {
    const { port1, port2 } = new MessageChannel();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    super(port1, flag);
    this.worker = new Worker(script, { workerData: { port: port2, flag, data } satisfies SyncWorkerData, transferList: [port2] });
    // An idle helper must not keep the process alive.
    this.worker.unref();
    port1.unref();
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** The answer to a request whose handler threw: an EIO result (SocketResult's shape), rather than no answer. */
const failedAnswer = (e: unknown) => ({ errno: Errno.IO, message: `kafu internal error: ${(e as Error)?.message ?? String(e)}` });

/**
 * The helper's side: answer each request with `handle`'s result, in order. Its blobs are views of the arena, valid
 * until it returns (a handler that keeps bytes beyond that copies them). A handler that throws is answered with
 * `failed(error)`: the caller must never wait for an answer that cannot come.
 */
export function serveSync(
  data: SyncWorkerData,
  handle: (request: any, blobs: Uint8Array[]) => Promise<{ answer: unknown; blobs?: Uint8Array[] }>,
  failed: (e: unknown) => unknown = failedAnswer,
): () => void {
  let arena = new SharedArrayBuffer(0);
  let queue = Promise.resolve();
  data.port.on('message', (m: Request) => {
    queue = queue.then(async () => {
      if (m.arena) arena = m.arena;
      let reply: { answer: unknown; blobs?: Uint8Array[] };
      try {
        reply = await handle(m.request, m.blobs.map(([at, n]) => new Uint8Array(arena, at, n)));
      } catch (e) {
        reply = { answer: failed(e) };
      }
      const { answer, blobs = [] } = reply;
      const packed = pack(arena, blobs);
      arena = packed.arena;
      data.port.postMessage({ answer, blobs: packed.refs, ...(packed.grown ? { arena } : {}) } satisfies Answer);
      Atomics.store(data.flag, 0, m.seq);
      Atomics.notify(data.flag, 0);
    });
  });
  /** Stop serving (the port no longer keeps the thread alive). */
  return () => data.port.close();
}
