#!/usr/bin/env node
// `npm install`'s build step. A runtime-only install (`npm install --omit=optional`) lacks the compiler's
// packages (binaryen, @yowasp/clang), so type-checking the compiler's sources fails although the emitted
// JavaScript is complete (those packages are only loaded when `kafu clang` runs). Accept exactly that case;
// any other type error fails the build. `npm test` type-checks strictly.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const r = spawnSync(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], {
  encoding: 'utf8',
});
// The browser node's page scripts (dist/browser), bundled with esbuild, a devDependency: an install without it
// (the published package ships the bundle) skips this.
let esbuild = true;
try {
  createRequire(import.meta.url).resolve('esbuild');
} catch {
  esbuild = false;
}
if (esbuild) {
  const b = spawnSync(process.execPath, [new URL('./bundle-browser.mjs', import.meta.url).pathname], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
if (r.status === 0) process.exit(0);
const missing = ['binaryen', '@yowasp/clang'].filter((p) => {
  try {
    createRequire(import.meta.url).resolve(`${p}/package.json`);
    return false;
  } catch {
    return true;
  }
});
const errors = (r.stdout + r.stderr).split('\n').filter((l) => /error TS/.test(l));
const onlyMissingModules = errors.length > 0 && errors.every((l) => missing.some((p) => l.includes(`'${p}'`) || l.includes(`"${p}"`)) || /TS7006|TS7031/.test(l));
if (missing.length > 0 && onlyMissingModules) {
  console.error(`kafu: built without the compiler's optional packages (${missing.join(', ')}); \`kafu clang\` will say how to install them.`);
  process.exit(0);
}
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
process.exit(r.status ?? 1);
