// Getting the module bytes a config names: app.path (resolved against the config) or app.url.
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { concat } from '../core/wasm-sections.js';
import type { LoadedConfig } from './config-file.js';

export async function readModule(loaded: LoadedConfig): Promise<{ bytes: Uint8Array; where: string }> {
  if (loaded.modulePath) {
    try {
      return { bytes: readFileSync(loaded.modulePath), where: loaded.modulePath };
    } catch (e) {
      throw new UserError(
        `${loaded.file}: app.path: cannot read ${loaded.modulePath} (${(e as NodeJS.ErrnoException).code ?? e}); ` +
          'build it first with `npx kafu clang …`',
      );
    }
  }
  return fetchModule(loaded.config.app.url!, loaded.file);
}

/** The largest module app.url may deliver: wasm32 code is far smaller; this only bounds a hostile server. */
export const MAX_MODULE_BYTES = 256 << 20;
const FETCH_TIMEOUT_MS = 120_000;

/** GET a module over HTTP(S): bounded in size and time, so a hostile or broken server cannot exhaust the node. */
export async function fetchModule(url: string, file: string, maxBytes = MAX_MODULE_BYTES): Promise<{ bytes: Uint8Array; where: string }> {
  const fail = (why: string) => new UserError(`${file}: app.url: ${url} ${why}`);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' });
  } catch (e) {
    throw fail(`cannot be fetched: ${(e as Error).message}`);
  }
  if (!response.ok) throw fail(`answered HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw fail(`is ${declared} bytes, more than a module may be (${maxBytes})`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  try {
    for (;;) {
      const { done, value } = reader ? await reader.read() : { done: true, value: undefined };
      if (done || !value) break;
      total += value.byteLength;
      if (total > maxBytes) throw fail(`sent more than a module may be (${maxBytes} bytes)`);
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw fail(`download failed: ${(e as Error).message}`);
  } finally {
    void reader?.cancel().catch(() => undefined);
  }
  return { bytes: concat(chunks), where: url };
}
