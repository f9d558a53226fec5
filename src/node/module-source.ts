// Getting the module bytes a config names: app.path (resolved against the config) or app.url.
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';
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
  const url = loaded.config.app.url!;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new UserError(`${loaded.file}: app.url: cannot fetch ${url}: ${(e as Error).message}`);
  }
  if (!response.ok) throw new UserError(`${loaded.file}: app.url: ${url} answered HTTP ${response.status}`);
  return { bytes: new Uint8Array(await response.arrayBuffer()), where: url };
}
