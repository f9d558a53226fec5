// The program worker of a node (src/serve/worker.ts) refusing a snapshot that decodes but cannot be restored: a
// delta against the memory baseline it holds has already changed that baseline's pages in place, so the worker must
// drop the baseline (and say so) rather than keep a damaged one under the same id for the next hop.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { GuestModule, INITIAL_BASELINE_ID } from '../../src/core/guest.js';
import { PAGE_SIZE } from '../../src/core/snapshot.js';
import { decodeTransfer, encodeTransfer } from '../../src/core/transfer.js';
import { concat } from '../../src/core/wasm-sections.js';
import { bodyBytes } from '../../src/serve/migrate-body.js';
import { type WorkerEvent } from '../../src/serve/program-worker.js';
import { buildWasm } from '../support/build.js';
import { startTestWorker } from '../support/program-worker.js';

test('a delta that decodes against the held baseline but does not restore is refused, and the baseline is dropped', async () => {
  const wasm = await buildWasm({ sources: ['test/programs/serve/comeback.c'], args: ['-O1'] });
  const events: WorkerEvent[] = [];
  let wake: (() => void) | undefined;
  const next = async (type: WorkerEvent['type']): Promise<WorkerEvent> => {
    for (;;) {
      const e = events.find((x) => x.type === type);
      if (e) return events.splice(events.indexOf(e), 1)[0]!;
      await new Promise<void>((r) => (wake = r));
    }
  };
  const worker = startTestWorker(wasm, (e) => {
    events.push(e);
    wake?.();
  });
  try {
    worker.start({});
    // comeback.c calls on_edge first: the program stops here, encoded whole; this worker now holds its memory.
    const suspended = await next('suspended');
    assert.equal(suspended.type, 'suspended');
    const { encoded } = suspended as Extract<WorkerEvent, { type: 'suspended' }>;
    // (A first hop is a delta against the module's initial image, which every node builds.)
    const guest = await GuestModule.load(new Uint8Array(await readFile(wasm)), wasm);
    const sent = decodeTransfer(bodyBytes(encoded.body), (id) => (id === INITIAL_BASELINE_ID ? guest.initialBaseline().memory : undefined));
    assert.equal(sent.baseline.id, encoded.baselineId);
    // As if it came back from edge: a delta against that memory, with a page changed, for a node that is not this one.
    const memory = new Uint8Array(sent.snapshot.memory.byteLength);
    for (const p of sent.snapshot.memory.pages) memory.set(p.data, p.index * PAGE_SIZE);
    memory[PAGE_SIZE + 8]! ^= 0xff;
    const header = { ...sent.snapshot.header, node: 'nowhere' };
    const pages = sent.snapshot.memory.pages.map((p) => ({ index: p.index, data: memory.subarray(p.index * PAGE_SIZE, (p.index + 1) * PAGE_SIZE) }));
    const back = encodeTransfer({ header, memory: { byteLength: memory.byteLength, pages }, blobs: sent.snapshot.blobs }, { compression: true, baseline: sent.baseline });
    worker.resume(concat(back.chunks), Date.now());
    const refused = await next('refused');
    assert.match((refused as { message: string }).message, /snapshot for node nowhere resumed on cloud/);
    assert.equal((refused as { baselineId?: string }).baselineId, undefined, 'the changed baseline is dropped, not kept');
    // The same delta again: this worker holds no baseline now, so it says so instead of applying it to damaged pages.
    // (Flagged for a whole snapshot: the main thread answers BASELINE_MISSING without reading the header itself.)
    worker.resume(concat(back.chunks), Date.now());
    const again = (await next('refused')) as { message: string; wholeNeeded?: boolean };
    assert.match(again.message, /which this node does not hold/);
    assert.equal(again.wholeNeeded, true);
  } finally {
    await worker.stop();
  }
});
