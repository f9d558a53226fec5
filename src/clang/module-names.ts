// Names a linked module imports and exports, as "module.name" strings (for kafu clang's tests and decisions).
import { exportNames, importEntries, parseSections } from '../core/wasm-sections.js';

export function importNames(bytes: Uint8Array): string[] {
  return importEntries(parseSections(bytes)).map((i) => `${i.module}.${i.name}`);
}

export function exportNamesOf(bytes: Uint8Array): string[] {
  return exportNames(parseSections(bytes));
}
