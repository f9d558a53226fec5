// The sender's baseline after a hop is the buffer the hop's bytes were sent from (worker.ts ownNow, migrate-body.ts
// `whole`): its raw pages become the baseline's pages once the main thread hands the buffer back ('departed'),
// instead of a second copy of the memory. The deltas after it must be against exactly the bytes the receiver holds:
// dirty_trips.c changes pages on both sides before every hop and checks on arrival that the heap it resumed with is
// the one that left (MISMATCH otherwise), over six round trips. Hops whose buffer does not come back (not handed
// back, handed back for another snapshot, the first send refused by the receiver) leave a baseline copied as before,
// which the next deltas use as exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyBytes } from '../../src/serve/migrate-body.js';
import type { WorkerEvent } from '../../src/serve/program-worker.js';
import type { Encoded } from '../../src/serve/worker-messages.js';
import { buildWasm } from '../support/build.js';
import { logMessages, runCluster } from '../support/cluster.js';
import { startTestWorker } from '../support/program-worker.js';

type Hand = 'back' | 'none' | 'other' | 'after-refusal';

/** Run dirty_trips between two workers; hop i's buffer is handed back to its sender as hands[i % hands.length] says. */
async function trips(wasm: string, hands: Hand[]): Promise<{ text: string; logs: string[] }> {
  const out: string[] = [];
  const logs: string[] = [];
  let done: (code: number) => void;
  const exited = new Promise<number>((r) => (done = r));
  let hop = 0;
  /** The hop on its way: its sender and what it sent, handed back once the receiver runs. */
  let inFlight: { from: ReturnType<typeof startTestWorker>; encoded: Encoded; hand: Hand } | undefined;
  const workers: Record<string, ReturnType<typeof startTestWorker>> = {};
  const onEvent = (id: string) => (e: WorkerEvent) => {
    if (e.type === 'output') out.push(Buffer.from(e.data).toString());
    else if (e.type === 'log') logs.push(`${id}: ${e.line}`);
    else if (e.type === 'exited') done(e.code);
    else if (e.type === 'suspended') {
      const hand = hands[hop++ % hands.length]!;
      const to = workers[e.migration.to]!;
      // (A copy for the receiver: the sent buffer stays on this side, to be handed back.)
      const bytes = bodyBytes(e.encoded.body);
      inFlight = { from: workers[id]!, encoded: e.encoded, hand };
      if (hand === 'after-refusal') {
        const damaged = bytes.slice();
        damaged[damaged.byteLength >> 1]! ^= 1;
        to.resume(damaged, e.suspendedAtMs);
      }
      to.resume(bytes, e.suspendedAtMs);
    } else if (e.type === 'resumed') {
      const f = inFlight!;
      inFlight = undefined;
      if (f.hand === 'back' || f.hand === 'after-refusal') f.from.departed(f.encoded);
      else if (f.hand === 'other') f.from.departed({ ...f.encoded, snapshotId: 'another' });
      // 'none': the sender copies its baseline when the next message comes (the program's return).
    } else if (e.type === 'failed' || e.type === 'trapped') done(-1);
  };
  workers.cloud = startTestWorker(wasm, onEvent('cloud'), { node: 'cloud', logLevel: 'debug' });
  workers.edge = startTestWorker(wasm, onEvent('edge'), { node: 'edge', logLevel: 'debug' });
  try {
    workers.cloud.start({});
    const timeout = new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`no exit; output ${out.join('')}`)), 60_000).unref());
    assert.equal(await Promise.race([exited, timeout]), 0, out.join(''));
  } finally {
    await Promise.all([workers.cloud.stop(), workers.edge.stop()]);
  }
  return { text: out.join(''), logs };
}

test('a sender keeps the pages it sent as its baseline; every later delta, both ways, is against what the receiver holds', async () => {
  const wasm = await buildWasm({ sources: ['test/programs/serve/dirty_trips.c'], args: ['-O1'] });
  const runs = [await trips(wasm, ['back']), await trips(wasm, ['none', 'back', 'other', 'after-refusal', 'back'])];
  for (const { text, logs } of runs) {
    assert.doesNotMatch(text, /MISMATCH/, text);
    for (let r = 0; r < 6; r++) {
      assert.match(text, new RegExp(`^edge ${r}: ok$`, 'm'));
      assert.match(text, new RegExp(`^round ${r}: ok$`, 'm'));
    }
    assert.equal(/^final: (\w+)$/m.exec(text)?.[1], /^final: (\w+)$/m.exec(runs[0]!.text)?.[1], 'the same heap at the end');
    assert.ok(logs.filter((l) => /baseline \w+ made/.test(l)).length >= 10, logs.join('\n'));
  }
  // The first hop (a whole heap, mostly raw pages) keeps its pages where they were sent once its buffer is back.
  const first = runs[0]!.logs.find((l) => /baseline \w+ made/.test(l))!;
  assert.match(first, /^cloud: .*baseline \w+ made: (\d+) pages kept in the buffer they were sent from \(handed back\)/);
  assert.ok(Number(/made: (\d+)/.exec(first)![1]) >= 100, first);
  // Where a hop's buffer did not come back, its baseline was copied as before.
  assert.ok(runs[1]!.logs.some((l) => /made: 0 pages kept .*\(not handed back\)/.test(l)), runs[1]!.logs.join('\n'));
});

test('between two kafu serve nodes a hop of several parts is sent as they are copied, and its buffers become the baseline', async () => {
  const wasm = await buildWasm({ sources: ['test/programs/serve/dirty_trips.c'], args: ['-O1'] });
  const run = await runCluster(wasm, { nodes: ['cloud', 'edge'], flags: ['--log-level', 'debug'], timeoutMs: 120_000 });
  const cloud = run.nodes.cloud!;
  assert.equal(cloud.exitCode, 0, cloud.stderr);
  assert.doesNotMatch(cloud.stdout, /MISMATCH/, cloud.stdout);
  for (let r = 0; r < 6; r++) assert.match(cloud.stdout, new RegExp(`^round ${r}: ok$`, 'm'), cloud.stdout);
  assert.match(cloud.stdout, /^final: \w+$/m);
  // The first hop (7.6 MB: 120 raw pages, the sparse ones compressed; two parts) kept its pages where they were sent.
  const first = logMessages(cloud.stderr).find((l) => /^baseline \w+ made/.test(l));
  assert.match(first ?? cloud.stderr, /made: (1[0-9]{2}) pages kept in the buffer they were sent from \(handed back\)/);
  // (More than one part: parts are 4 MiB.)
  const sent = logMessages(cloud.stderr).map((l) => /^Program moved to edge: ([\d.]+) MB sent/.exec(l)?.[1]).find((x) => x !== undefined);
  assert.ok(Number(sent) > 4.5, cloud.stderr);
});
