// The engine matrix: `kafu serve` nodes on Node (V8), Bun (JavaScriptCore) and Deno (V8 under Deno's host), each a
// real process over mutual TLS, hand a program back and forth in every pairing. Each run is compared with the
// same program run plainly (`kafu run`'s code, on Node): same stdout, same files, same exit code. So a snapshot
// one engine writes is one every other engine resumes, with the library OS's state (open files, offsets, the
// files of a follow mount) intact.
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildWasm } from '../support/build.js';
import { runCluster } from '../support/cluster.js';
import { ENGINES, launchOf, missingEngines, type Engine } from '../support/engines.js';
import { buildForced, freshDir, runPlainModule, snapshotTree } from '../support/forced.js';
import { runPlain } from '../support/run.js';

const missing = missingEngines(ENGINES);
const skip = missing.length > 0 ? `engines not installed: ${missing.join('; ')}` : false;

const pairs: [Engine, Engine][] = ENGINES.flatMap((a) => ENGINES.filter((b) => b !== a).map((b): [Engine, Engine] => [a, b]));
const launches = (nodes: string[], engines: Engine[]) => Object.fromEntries(nodes.map((id, i) => [id, launchOf(engines[i]!)]));
const moved = (logs: string[]) => logs.filter((l) => l.startsWith('Program moved to '));

describe('engine matrix: forced migrations with files, every ordered pair of engines', { skip }, () => {
  for (const [a, b] of pairs) {
    test(`${a} ⇄ ${b}: fd_file.c moved after every 3rd WASI call, files in per-node folders, equals a plain run`, async () => {
      const wasm = await buildForced(['test/programs/wasi/fd_file.c']);
      const work = await freshDir('kafu-engines-');
      try {
        await mkdir(join(work, 'plain'));
        const plain = await runPlainModule(wasm.plain, join(work, 'plain'));
        const nodes = [a, b];
        const run = await runCluster(wasm.migrating, {
          nodes,
          nodeLaunch: launches(nodes, [a, b]),
          output: 'first_node',
          dir: work,
          appYaml: ['  mounts:', '    - { guest: /, host: "./state/${node}" }'],
          flags: ['--force-migration-every', '3'],
          timeoutMs: 120_000,
        });
        const first = run.nodes[a]!;
        const ended = /^Program finished on (\S+) /.exec(run.logs.find((l) => l.startsWith('Program finished on')) ?? '')?.[1];
        assert.ok(ended, `${first.stderr}\n${run.nodes[b]!.stderr}`);
        assert.equal(first.exitCode, plain.exitCode, first.stderr);
        assert.equal(run.nodes[b]!.exitCode, plain.exitCode, run.nodes[b]!.stderr);
        assert.equal(first.stdout, plain.stdout);
        const moves = moved(run.logs);
        assert.ok(moves.length > 20, `many forced migrations (${moves.length})`);
        // After the first hop each one is a page delta against the memory the other engine kept.
        assert.equal(moves.filter((l) => / \(delta: /.test(l)).length, moves.length - 1, moves.join('\n'));
        assert.deepEqual(await snapshotTree(join(work, 'state', ended)), await snapshotTree(join(work, 'plain')));
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  }
});

describe('engine matrix: nested migrations over three engines', { skip }, () => {
  // A -> B -> C -> B -> A and back: each rotation covers two pairings both ways; the three cover all of them.
  const rotations: Engine[][] = ENGINES.map((_, i) => [...ENGINES.slice(i), ...ENGINES.slice(0, i)]);
  for (const engines of rotations) {
    test(`nested.c on A=${engines[0]}, B=${engines[1]}, C=${engines[2]}: output equals a plain run`, async () => {
      const wasm = await buildWasm({ sources: ['test/programs/core/nested.c'], args: ['-O1'] });
      const plain = await runPlain(await buildWasm({ sources: ['test/programs/core/nested.c'], args: ['-O1'], instrument: false }));
      const nodes = ['A', 'B', 'C'];
      const run = await runCluster(wasm, { nodes, nodeLaunch: launches(nodes, engines), output: 'first_node', timeoutMs: 120_000 });
      for (const id of nodes) assert.equal(run.nodes[id]!.exitCode, 0, run.nodes[id]!.stderr);
      assert.equal(run.nodes.A!.stdout, plain.stdout);
      assert.equal(moved(run.logs).length, 8, run.logs.join('\n'));
    });
  }
});

describe('engine matrix: file times to the nanosecond, whatever each engine\'s node:fs stores', { skip }, () => {
  // Node keeps microseconds, Deno milliseconds, Bun a double's precision; the library OS reports the program's own
  // times all the same (exact-times.ts, FsBackend.timeSlackNs). Each rotation has another engine set the times.
  const rotations: Engine[][] = ENGINES.map((_, i) => [...ENGINES.slice(i), ...ENGINES.slice(0, i)]);
  for (const engines of rotations) {
    test(`gaps.c times-ns moved after every WASI call over ${engines.join(', ')}`, async () => {
      const wasm = await buildForced(['test/programs/wasi/gaps.c']);
      const work = await freshDir('kafu-engines-times-');
      try {
        const nodes = ['a', 'b', 'c'];
        const run = await runCluster(wasm.migrating, {
          nodes,
          nodeLaunch: launches(nodes, engines),
          args: ['times-ns'],
          output: 'first_node',
          dir: work,
          appYaml: ['  mounts:', '    - { guest: /, host: "./state/${node}" }'],
          flags: ['--force-migration-every', '1'],
          timeoutMs: 120_000,
        });
        assert.equal(run.nodes.a!.exitCode, 0, nodes.map((id) => `${id}:\n${run.nodes[id]!.stderr}`).join('\n'));
        const t = 'atime 1234567890.123456789 mtime 1300000000.987654321\n';
        assert.equal(run.nodes.a!.stdout, `futimens: 0\n${t}utimensat: 0\n${t}`);
        assert.ok(moved(run.logs).length >= 6, run.logs.join('\n'));
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  }
});
