// Names a linked module imports, as "module.name" strings (for kafu clang's tests and decisions).
import { importEntries, parseSections } from '../core/wasm-sections.js';

export function importNames(bytes: Uint8Array): string[] {
  return importEntries(parseSections(bytes)).map((i) => `${i.module}.${i.name}`);
}
