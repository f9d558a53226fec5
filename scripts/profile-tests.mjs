#!/usr/bin/env node
// `npm run test:profile [-- FILTER…]`: runs each compiled test file (dist/**/*.test.js, optionally filtered) on
// its own under /usr/bin/time and prints a table of wall and CPU (user+sys, children included) seconds per file,
// most CPU first: where `npm test`'s time goes (CPU seconds matter more than wall on a shared machine). The run's
// build servers compile the test programs, as under `npm test`: their CPU is a row of its own. KAFU_PROFILE_JOBS
// files run at once (default 1). The build cache (.cache/test-builds) is left as it is: clear it first to see a
// fresh clone's compile costs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestRun, testFiles } from './test-run.mjs';

const files = testFiles(process.argv.slice(2));
const jobs = Number(process.env.KAFU_PROFILE_JOBS ?? '1');
const tmp = mkdtempSync(join(tmpdir(), 'kafu-profile-'));
const run = await startTestRun();
const env = run.env;
const rows = [];
let next = 0;
async function worker() {
  while (next < files.length) {
    const i = next++;
    const f = files[i];
    const out = join(tmp, `${i}.time`);
    const code = await new Promise((res) => {
      const p = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', out, process.execPath, '--test', f], { stdio: ['ignore', 'ignore', 'ignore'], env });
      p.on('close', res);
    });
    const [wall, user, sys, rss] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    rows.push({ file: f, wall, cpu: user + sys, rss, code });
    process.stderr.write(`${f} wall ${wall}s cpu ${(user + sys).toFixed(1)}s exit ${code}\n`);
  }
}
const t0 = Date.now();
await Promise.all(Array.from({ length: jobs }, worker));
rmSync(tmp, { recursive: true, force: true });
// The build server's work: the test programs' compilation, for all files.
const server = await run.finish();
if (server) rows.push({ file: `(build server: ${server.compiled} modules compiled)`, wall: 0, cpu: server.cpuSeconds, code: 0 });
rows.sort((a, b) => b.cpu - a.cpu);
const total = (k) => rows.reduce((s, r) => s + r[k], 0);
const lines = ['| file | wall s | cpu s | exit |', '|---|---:|---:|---:|'];
for (const r of rows) lines.push(`| ${r.file.replace(/^dist\//, '')} | ${r.wall.toFixed(1)} | ${r.cpu.toFixed(1)} | ${r.code} |`);
lines.push(`| total (${rows.length} files, ${jobs} at a time, ${((Date.now() - t0) / 1000).toFixed(0)} s elapsed) | ${total('wall').toFixed(0)} | ${total('cpu').toFixed(0)} | |`);
console.log(lines.join('\n'));
if (process.env.KAFU_PROFILE_JSON) writeFileSync(process.env.KAFU_PROFILE_JSON, JSON.stringify(rows, null, 1));
process.exit(rows.some((r) => r.code !== 0) ? 1 : 0);
