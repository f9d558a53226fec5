// Pre-copy (src/serve/precopy.ts, precopy-rounds.ts): while the program works on cloud, rounds send its heap ahead
// to edge, and the first hop there is a delta against the last round. Each run's output must be what `kafu run`
// prints. precopy_late.c's edge side also reads memory nothing wrote, so a hop resumed over an instance holding a
// pre-copied image it was not a delta against shows. What edge refuses is refused alone, and the hop still goes.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { test } from 'node:test';
import { GuestModule } from '../../src/core/guest.js';
import { PAGE_SIZE, resealFrame, u32, type MemoryImage } from '../../src/core/snapshot.js';
import { encodeTransfer, type Baseline } from '../../src/core/transfer.js';
import { concat } from '../../src/core/wasm-sections.js';
import { roundHeader } from '../../src/serve/precopy-rounds.js';
import type { MigrateStart } from '../../src/serve/protocol.js';
import { loadNodeTls } from '../../src/serve/tls.js';
import { buildWasm } from '../support/build.js';
import { logMessages, runCluster } from '../support/cluster.js';
import { rawMigrate } from '../support/fuzz.js';
import { runPlain } from '../support/run.js';

const DEBUG = ['--log-level', 'debug'];
/** Rounds from the start, as often as they can go. */
const EAGER = ['  migration: { precopy: auto, precopy_after_ms: 0, precopy_interval_ms: 10 }'];

const build = () => buildWasm({ sources: ['test/programs/serve/precopy_late.c'], args: ['-O1'] });

/** precopy_late.c run with `args` on cloud and edge, rounds from the start: both end well, output as `kafu run`'s. */
async function eagerRun(args: string[]) {
  const wasm = await build();
  const plain = await runPlain(wasm, { args });
  const run = await runCluster(wasm, { nodes: ['cloud', 'edge'], args, output: 'first_node', flags: DEBUG, clusterYaml: EAGER, timeoutMs: 90_000 });
  const [cloud, edge] = [logMessages(run.nodes.cloud!.stderr), logMessages(run.nodes.edge!.stderr)];
  const all = run.nodes.cloud!.stderr + run.nodes.edge!.stderr;
  assert.equal(run.nodes.cloud!.exitCode, 0, all);
  assert.equal(run.nodes.edge!.exitCode, 0, all);
  assert.equal(run.nodes.cloud!.stdout, plain.stdout);
  return { plain, cloud, edge, all };
}

test('the first hop is a delta against the pre-copied image; output as kafu run prints it, over two round trips', { timeout: 120_000 }, async () => {
  const { plain, cloud, edge, all } = await eagerRun(['0', '300000']);
  assert.match(plain.stdout, /visit 1, .*zeros 0\n.*visit 2, .*zeros 0\n/);
  assert.ok(edge.some((l) => /^pre-copy round from cloud kept: \d+ pages/.test(l)), all);
  assert.ok(cloud.some((l) => /^hop to edge: a delta against the pre-copied image [0-9a-f]+$/.test(l)), all);
  // The first hop to edge sent only what changed since the last round.
  const firstHop = cloud.find((l) => l.startsWith('Program moved to edge'));
  assert.match(firstHop ?? '', /\(delta: \d+ pages changed/, all);
});

test('a 40 MiB heap goes out in rounds of at most 256 pages while it is compared; the hop is a delta against the last one edge kept', { timeout: 120_000 }, async () => {
  const { cloud, edge, all } = await eagerRun(['0', '1000000', '-', '40']);
  // The heap's 640 pages go in rounds of 256 while the pass compares them, not in one round once it is compared (as
  // before). (A pass may come first at start-up, before the heap is made: a round of a few pages.)
  const rounds = cloud.map((l) => /^pre-copy round \d+ to edge: (\d+) of (\d+) pages differ from image \S+$/.exec(l)).filter((m) => m !== null);
  assert.ok(rounds.some((m) => Number(m[1]) === 256 && Number(m[2]) >= 640), all);
  assert.ok(rounds.every((m) => Number(m[1]) <= 256), all);
  // Whether a round was on its way when the program stopped or not, the hop is a delta against the last image edge kept.
  const kept = edge.map((l) => /^pre-copy round from cloud kept: \d+ pages, image ([0-9a-f]+)$/.exec(l)?.[1]).filter((id) => id !== undefined);
  const against = cloud.map((l) => /^hop to edge: a delta against the pre-copied image ([0-9a-f]+)$/.exec(l)?.[1]).find((id) => id !== undefined);
  assert.ok(kept.length > 0, all);
  assert.equal(against, kept[kept.length - 1], all);
  assert.match(cloud.find((l) => l.startsWith('Program moved to edge')) ?? '', /\(delta: \d+ pages changed/, all);
});

test('a heap made after a pass is new memory, not changed again: pre-copy goes on and sends it', { timeout: 120_000 }, async () => {
  // A pass over the few pages there are before the heap, then one that finds 640 pages more: pre-copy used to end
  // there ("more than half changed again") and the hop carried the whole heap.
  const { cloud, edge, all } = await eagerRun(['0', '1000000', '-', '40', 'grow']);
  assert.ok(!cloud.some((l) => l.startsWith('pre-copy to edge ends')), all);
  const rounds = cloud.map((l) => /^pre-copy round \d+ to edge: (\d+) of (\d+) pages differ from image \S+$/.exec(l)).filter((m) => m !== null);
  assert.ok(rounds.some((m) => Number(m[2]) < 640), all);
  assert.ok(rounds.some((m) => Number(m[2]) >= 640), all);
  assert.ok(edge.some((l) => l.startsWith('pre-copy round from cloud kept')), all);
  assert.match(cloud.find((l) => l.startsWith('Program moved to edge')) ?? '', /\(delta: \d+ pages changed/, all);
});

test('edge restarted after a round: the hop, a delta against an image edge lost, goes whole', { timeout: 120_000 }, async () => {
  const wasm = await build();
  const args = ['4', '300000'];
  const plain = await runPlain(wasm, { args });
  const run = await runCluster(wasm, {
    nodes: ['cloud', 'edge'],
    args,
    output: 'first_node',
    flags: DEBUG,
    clusterYaml: EAGER,
    timeoutMs: 90_000,
    whileRunning: async (c) => {
      await c.printed('cloud', 'pre-copy round 1 sent to edge');
      await c.printed('cloud', 'cloud: waiting');
      await c.restart('edge');
    },
  });
  const all = run.nodes.cloud!.stderr + run.nodes.edge!.stderr;
  assert.equal(run.nodes.cloud!.exitCode, 0, all);
  assert.equal(run.nodes.cloud!.stdout, plain.stdout);
  assert.match(all, /hop to edge: a delta against the pre-copied image/);
  assert.match(all, /sending the whole snapshot: node edge refused the snapshot/);
});

/** A round as cloud's worker would make it (precopy-rounds.ts), of `memory` against `against`. */
function round(sha: string, memory: MemoryImage, against: Baseline): Uint8Array {
  const header = roundHeader(sha, 'edge');
  return concat(encodeTransfer({ header, memory, blobs: [] }, { compression: false, baseline: against }).chunks);
}

test('hostile pre-copy rounds to a node that never ran the program are refused alone; a good one is kept but not resumed over', { timeout: 120_000 }, async () => {
  const wasm = await build();
  const bytes = new Uint8Array(await readFile(wasm));
  const sha = createHash('sha256').update(bytes).digest('hex');
  const initial = (await GuestModule.load(bytes, wasm)).initialBaseline();
  // The module's first image with every page it leaves zero filled: a round edge may keep, whose pages no hop against
  // the initial image rewrites (where the program leaves them zero).
  const count = initial.memory.byteLength / PAGE_SIZE;
  const nonZero = new Map(initial.memory.pages.filter((p) => p.data.some((b) => b !== 0)).map((p) => [p.index, p.data]));
  const garbage: MemoryImage = {
    byteLength: initial.memory.byteLength,
    pages: Array.from({ length: count }, (_, index) => ({ index, data: nonZero.get(index) ?? new Uint8Array(PAGE_SIZE).fill(0xa5) })),
  };
  const good = round(sha, garbage, initial);
  const answers: Record<string, { code: number; details: string }> = {};
  const dir = await mkdtemp(join(tmpdir(), 'kafu-precopy-'));
  const args = ['4', '1000'];
  try {
    const plain = await runPlain(wasm, { args });
    const run = await runCluster(wasm, {
      nodes: ['cloud', 'edge'],
      args,
      dir,
      output: 'first_node',
      flags: DEBUG,
      clusterYaml: ['  migration: { precopy: off }'],
      timeoutMs: 90_000,
      whileRunning: async (c) => {
        await c.printed('cloud', 'cloud: waiting');
        const port = Number([...(await readFile(join(dir, 'kafu-config.yaml'), 'utf8')).matchAll(/port: (\d+)/g)][1]![1]);
        const tls = loadNodeTls(join(dir, 'kafu-config.yaml'), { ca: './certs/ca.crt', cert: './certs/${node}.crt', key: './certs/${node}.key' }, 'cloud')!;
        const start: MigrateStart = { from: 'cloud', to: 'edge', moduleSha256: sha, reason: 'attack', suspendedAtMs: 0, totalBytes: 0, snapshotId: 'r', output: [], precopy: true };
        const send = (name: string, data: Uint8Array, edit: Partial<MigrateStart> = {}) =>
          rawMigrate(`127.0.0.1:${port}`, { tls, node: 'edge' }, [{ start: { ...start, totalBytes: data.length, snapshotId: name, ...edit } }, { data }], 10_000).then((a) => (answers[name] = a));
        const badIndex = good.slice();
        new DataView(badIndex.buffer).setUint32(16 + u32(good, 12), 9999, true);
        await send('bad page index', resealFrame(badIndex));
        const flipped = good.slice();
        flipped[100]! ^= 1;
        await send('wrong checksum', flipped);
        await send('too big', good, { totalBytes: 2 ** 40 });
        await send('unknown program', good, { moduleSha256: 'ab'.repeat(32) });
        await send('round of another module', round('ab'.repeat(32), garbage, initial));
        await send('against an image edge lacks', round(sha, garbage, { id: 'f00d', memory: initial.memory }));
        await send('good', good);
      },
    });
    const logs = run.nodes.cloud!.stderr + run.nodes.edge!.stderr;
    const expect: Record<string, [grpc.status, RegExp]> = {
      'bad page index': [grpc.status.FAILED_PRECONDITION, /page index 9999 out of range/],
      'wrong checksum': [grpc.status.DATA_LOSS, /checksum mismatch/],
      'too big': [grpc.status.RESOURCE_EXHAUSTED, /over this node's limit/],
      'unknown program': [grpc.status.FAILED_PRECONDITION, /node edge runs module/],
      'round of another module': [grpc.status.FAILED_PRECONDITION, /it is of module abababababab/],
      'against an image edge lacks': [grpc.status.FAILED_PRECONDITION, /memory baseline f00d, which this node does not hold/],
      good: [grpc.status.OK, /^$/],
    };
    for (const [name, [code, why]] of Object.entries(expect)) {
      assert.equal(answers[name]?.code, code, `${name}: ${JSON.stringify(answers[name])}`);
      assert.match(answers[name]!.details, why, name);
    }
    assert.equal((logs.match(/WARN .*refused a pre-copy round from cloud: /g) ?? []).length, Object.keys(expect).length - 1, logs);
    assert.match(logs, /pre-copy round from cloud kept/);
    // The real first hop (against the initial image: cloud sends no rounds) does not resume over the kept round.
    assert.equal(run.nodes.cloud!.exitCode, 0, logs);
    assert.equal(run.nodes.edge!.exitCode, 0, logs);
    assert.equal(run.nodes.cloud!.stdout, plain.stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
