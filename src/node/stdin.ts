// The program's stdin: this process's fd 0, read synchronously (WASI calls are synchronous). A non-blocking
// stdin (EAGAIN) is waited on rather than reported as end of input.
import { readSync } from 'node:fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

export function readProcessStdin(maxBytes: number): Uint8Array | null {
  const buf = new Uint8Array(Math.max(1, Math.min(maxBytes, 1 << 16)));
  for (;;) {
    try {
      const n = readSync(0, buf, 0, buf.length, null);
      return n === 0 ? null : buf.subarray(0, n);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 5);
        continue;
      }
      if (code === 'EOF' || code === 'EBADF' || code === 'EINVAL') return null; // no stdin at all
      throw e;
    }
  }
}
