// Which JavaScript engine runs this host adapter. The adapters in src/node run unchanged on Node, Bun and Deno
// (through their node: modules); where the engines' node: modules behave differently, the adapter asks here —
// never the core, which knows no engine.
export type EngineName = 'node' | 'bun' | 'deno';

export const ENGINE: EngineName = process.versions.bun !== undefined ? 'bun' : process.versions.deno !== undefined ? 'deno' : 'node';

/** e.g. "bun 1.4.5 (JavaScriptCore)", for logs and `kafu doctor`. */
export function engineDescription(): string {
  switch (ENGINE) {
    case 'bun':
      return `bun ${process.versions.bun} (JavaScriptCore)`;
    case 'deno':
      return `deno ${process.versions.deno} (V8 ${process.versions.v8})`;
    case 'node':
      return `node ${process.versions.node} (V8 ${process.versions.v8})`;
  }
}
