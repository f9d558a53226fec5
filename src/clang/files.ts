// Writing outputs so that nobody ever sees half of one: a temporary file in the same folder, then rename.
import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A temporary name next to `path` (same folder, so rename is atomic). */
export function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.kafu-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

export async function writeFileAtomic(path: string, data: Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempNameFor(path);
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

export async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => {});
}

/** Splits a byte stream into lines, hands each (with its "\n") to `onLine`; `flush` hands over the rest. */
export function lineSplitter(onLine: (line: string) => void): { push: (chunk: Uint8Array | string) => void; flush: () => void } {
  const decoder = new TextDecoder();
  let pending = '';
  return {
    push(chunk) {
      pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, nl + 1));
        pending = pending.slice(nl + 1);
      }
    },
    flush() {
      pending += decoder.decode();
      if (pending) onLine(pending);
      pending = '';
    },
  };
}
