#!/usr/bin/env node
// The browser node's page scripts (src/browser/tab-page.ts, tab-worker.ts and what they import: the engine-neutral
// core and library OS, zod, fflate, hash-wasm) bundled into dist/browser/, which a browser node's `kafu serve`
// serves (src/serve/browser-bridge.ts). Part of `npm run build`/`prepare` and `npm test`; the package ships the
// bundle, so esbuild is only a devDependency. Anything from Node (a `node:` import) in that graph fails the build.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/browser/tab-page.ts', 'src/browser/tab-worker.ts'],
  outdir: 'dist/browser',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome120', 'firefox128'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
