// Hostile Migrate calls into a real `kafu serve` node while the program runs on another (test/support/fuzz-serve.ts):
// hostile start fields (sizes, to, from, module), more data than declared, data before the start, two starts, no
// start, garbage, and mutated transfers that reach the decoder and the restore. Each gets an error status back; the
// node stays up, idle and small, and the program completes normally afterwards, through the attacked node.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { test } from 'node:test';
import { buildWasm } from '../support/build.js';
import { fuzzServe } from '../support/fuzz-serve.js';

test('fuzz: hostile Migrate calls to an idle node are refused one by one; the program elsewhere finishes (6 s, seed 7)', async () => {
  const comeback = await buildWasm({ sources: ['test/programs/serve/comeback.c'], args: ['-O1'] });
  const dir = await mkdtemp(join(tmpdir(), 'kafu-fuzz-serve-'));
  try {
    const { tally, run, rss, flood } = await fuzzServe(comeback, dir, 7, 6000); // 20 calls take 3 s on a quiet 2-core machine, twice that under load
    const logs = run.nodes.cloud!.stderr + run.nodes.edge!.stderr;
    assert.deepEqual(tally.failures, [], logs);
    assert.ok(tally.cases >= 20, `only ${tally.cases} calls`);
    assert.equal(flood.code, grpc.status.INVALID_ARGUMENT, `64 MiB declared as 1 byte: status ${flood.code}`);
    assert.ok(rss.after - rss.before < 64 << 20, `edge grew from ${rss.before} to ${rss.after} bytes`);
    assert.equal(run.nodes.cloud!.exitCode, 0, logs);
    assert.equal(run.nodes.edge!.exitCode, 0, logs);
    assert.equal(run.nodes.cloud!.stdout, 'edge: visit 1\ncloud: sleeping\nedge: visit 2\ncloud: total 30\n');
    assert.match(run.nodes.edge!.stderr, /WARN .*refused a hand-off from cloud: /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
