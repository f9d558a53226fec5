// The shared buffer a program worker's synchronous WASI read blocks on (`workerStdin`) while the main thread
// fetches the bytes and hands them over (`answerStdin`); stdin-bridge.ts says where the bytes come from. Its own
// file because the worker imports it: nothing here may pull in gRPC (each node's worker would load it for nothing).

/** Bytes one request carries at most. */
export const STDIN_CHUNK = 1 << 16;
const STATE = 0; // 0: waiting, 1: answered
const LENGTH = 1; // bytes answered, -1: end of input
const HEADER = 8;

export function stdinBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER + STDIN_CHUNK);
}

/** Worker side: a stdin callback for the WASI host that asks the main thread (`ask`) and waits for its answer. */
export function workerStdin(shared: SharedArrayBuffer, ask: (maxBytes: number) => void): (maxBytes: number) => Uint8Array | null {
  const header = new Int32Array(shared, 0, 2);
  const data = new Uint8Array(shared, HEADER);
  return (maxBytes) => {
    Atomics.store(header, STATE, 0);
    ask(Math.max(1, Math.min(maxBytes, STDIN_CHUNK)));
    Atomics.wait(header, STATE, 0);
    const n = Atomics.load(header, LENGTH);
    return n < 0 ? null : data.slice(0, n);
  };
}

/** Main side: hand `bytes` (null: end of input) to the waiting worker. */
export function answerStdin(shared: SharedArrayBuffer, bytes: Uint8Array | null): void {
  const header = new Int32Array(shared, 0, 2);
  if (bytes) new Uint8Array(shared, HEADER).set(bytes.subarray(0, STDIN_CHUNK));
  Atomics.store(header, LENGTH, bytes ? Math.min(bytes.byteLength, STDIN_CHUNK) : -1);
  Atomics.store(header, STATE, 1);
  Atomics.notify(header, STATE);
}
