// Synchronous calls into a helper thread that does asynchronous work. WASI calls are synchronous; ONNX
// Runtime's API is all promises. The caller posts a request on a MessagePort, blocks on Atomics.wait until the
// helper has posted its answer and written the request's number to a shared word, then takes the answer with receiveMessageOnPort. The
// helper answers every request (errors included), so the caller never waits for an answer that cannot come.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort, type TransferListItem } from 'node:worker_threads';

export interface SyncWorkerData {
  port: MessagePort;
  /** [0]: the number of the request last answered (the caller numbers them). */
  flag: Int32Array;
  data: unknown;
}

export class SyncWorker {
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;
  private seq = 0;

  constructor(script: URL, data?: unknown) {
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(script, { workerData: { port: port2, flag: this.flag, data } satisfies SyncWorkerData, transferList: [port2] });
    // An idle helper must not keep the process alive.
    this.worker.unref();
    port1.unref();
    this.port = port1;
  }

  call<T>(request: unknown, transfer: TransferListItem[] = []): T {
    // Numbered, so that only the answer to this request ends the wait (never a wake-up meant for another).
    const seq = (this.seq = (this.seq + 1) | 0);
    this.port.postMessage({ seq, request }, transfer);
    for (;;) {
      const done = Atomics.load(this.flag, 0);
      if (done === seq) break;
      Atomics.wait(this.flag, 0, done);
    }
    const answer = receiveMessageOnPort(this.port);
    if (!answer) throw new Error('kafu internal error: helper thread signalled without an answer');
    return answer.message as T;
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** The helper's side: answer each request with `handle`'s result, in order; `handle` must not throw. */
export function serveSync(data: SyncWorkerData, handle: (request: any) => Promise<{ answer: unknown; transfer?: TransferListItem[] }>): void {
  let queue = Promise.resolve();
  data.port.on('message', ({ seq, request }: { seq: number; request: unknown }) => {
    queue = queue.then(async () => {
      const { answer, transfer } = await handle(request);
      data.port.postMessage(answer, transfer ?? []);
      Atomics.store(data.flag, 0, seq);
      Atomics.notify(data.flag, 0);
    });
  });
}
