// Synchronous calls into a helper thread that does asynchronous work. WASI calls are synchronous; ONNX
// Runtime's API is all promises. The caller posts a request on a MessagePort, blocks on Atomics.wait until the
// helper has posted its answer and raised a shared flag, then takes the answer with receiveMessageOnPort. The
// helper answers every request (errors included), so the caller never waits for an answer that cannot come.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort, type TransferListItem } from 'node:worker_threads';

export interface SyncWorkerData {
  port: MessagePort;
  /** [0]: 1 once the answer is posted. */
  flag: Int32Array;
  data: unknown;
}

export class SyncWorker {
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;

  constructor(script: URL, data?: unknown) {
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(script, { workerData: { port: port2, flag: this.flag, data } satisfies SyncWorkerData, transferList: [port2] });
    // An idle helper must not keep the process alive.
    this.worker.unref();
    port1.unref();
    this.port = port1;
  }

  call<T>(request: unknown, transfer: TransferListItem[] = []): T {
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(request, transfer);
    Atomics.wait(this.flag, 0, 0);
    const answer = receiveMessageOnPort(this.port);
    if (!answer) throw new Error('kafu internal error: helper thread signalled without an answer');
    return answer.message as T;
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** The helper's side: answer each request with `handle`'s result; `handle` must not throw. */
export function serveSync(data: SyncWorkerData, handle: (request: any) => Promise<{ answer: unknown; transfer?: TransferListItem[] }>): void {
  data.port.on('message', (request: unknown) => {
    void handle(request).then(({ answer, transfer }) => {
      data.port.postMessage(answer, transfer ?? []);
      Atomics.store(data.flag, 0, 1);
      Atomics.notify(data.flag, 0);
    });
  });
}
