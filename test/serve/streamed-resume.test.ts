// A node's program worker taking a hand-off as its bytes arrive (ProgramWorker.resumeBegin, resumePiece,
// resumeEnd): a first hop's pages go into the instance prepared ahead before the last byte; a stream refused at its
// end (damaged, cut off) leaves the node as it was, both the prepared instance and the parked one that holds the
// program; and the program then runs on as without migration (each node prints a hash of the heap it holds).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyBytes } from '../../src/serve/migrate-body.js';
import type { ProgramWorker, WorkerEvent } from '../../src/serve/program-worker.js';
import type { Encoded } from '../../src/serve/worker-messages.js';
import { buildWasm } from '../support/build.js';
import { startTestWorker } from '../support/program-worker.js';

/** A worker whose events are awaited one type at a time. */
function node(wasm: string, id: string) {
  const events: WorkerEvent[] = [];
  let wake: (() => void) | undefined;
  const worker = startTestWorker(
    wasm,
    (e) => {
      events.push(e);
      wake?.();
    },
    { node: id, logLevel: 'debug' },
  );
  const next = async (type: WorkerEvent['type']): Promise<WorkerEvent> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const e = events.find((x) => x.type === type);
      if (e) return events.splice(events.indexOf(e), 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no ${type} event from ${id}; had ${events.map((x) => x.type).join(', ')}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 200);
      });
    }
  };
  const text = () =>
    events
      .filter((e) => e.type === 'output')
      .map((e) => Buffer.from((e as { data: Uint8Array }).data).toString())
      .join('');
  const logs = () => events.filter((e) => e.type === 'log').map((e) => (e as { line: string }).line);
  return { worker, next, text, logs };
}

/** Stream `bytes` in pieces of `sizes` (cycled), each in a buffer of its own (they move to the worker). */
function stream(worker: ProgramWorker, bytes: Uint8Array, sizes: number[], end: 'end' | 'abort' = 'end'): void {
  worker.resumeBegin(bytes.byteLength, Date.now());
  for (let at = 0, i = 0; at < bytes.byteLength; i++) {
    const n = Math.min(sizes[i % sizes.length]!, bytes.byteLength - at);
    worker.resumePiece(bytes.slice(at, at + n));
    at += n;
  }
  if (end === 'end') worker.resumeEnd();
  else worker.resumeAbort();
}

const damaged = (bytes: Uint8Array, at: number) => {
  const out = bytes.slice();
  out[at]! ^= 0x40;
  return out;
};

/**
 * The transfer with one record moved to a page that has none (a zero page between two that have): the page is
 * written into memory as the record arrives, and only the end's checksum refuses it.
 */
function misplaced(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const dv = new DataView(out.buffer);
  const records = new Map<number, number>();
  let at = 16 + dv.getUint32(12, true);
  const pages = (JSON.parse(Buffer.from(out.subarray(16, at)).toString()) as { memory: { pages: number } }).memory.pages;
  for (let r = 0; r < pages; r++) {
    records.set(dv.getUint32(at, true), at);
    const length = dv.getUint32(at + 8, true);
    at += 12 + length + ((4 - (length % 4)) % 4);
  }
  const gap = [...records.keys()].find((i) => i > 2 && !records.has(i + 1) && records.has(i + 2))! + 1;
  dv.setUint32(records.get(gap - 1)!, gap, true);
  return out;
}

const suspended = async (n: ReturnType<typeof node>) => ((await n.next('suspended')) as { encoded: Encoded }).encoded;

test('a hand-off streamed in pieces resumes as it arrives; refused ones leave prepared and parked instances intact', async () => {
  const wasm = await buildWasm({ sources: ['test/programs/serve/heap_trip.c'], args: ['-O1'] });
  const cloud = node(wasm, 'cloud');
  const edge = node(wasm, 'edge');
  try {
    cloud.worker.start({});
    const there = bodyBytes((await suspended(cloud)).body);
    // Refused first hops to edge: a flipped byte in a page, a page written where the program has none (both written
    // into the prepared instance before the checksum said no), a flipped byte in the checksum trailer, and a stream
    // cut off half way.
    stream(edge.worker, damaged(there, Math.floor(there.byteLength / 2)), [1000, 12, 7, 65536]);
    assert.match(((await edge.next('refused')) as { message: string }).message, /checksum mismatch/);
    stream(edge.worker, misplaced(there), [65536]);
    assert.match(((await edge.next('refused')) as { message: string }).message, /checksum mismatch/);
    stream(edge.worker, damaged(there, there.byteLength - 3), [4096]);
    assert.match(((await edge.next('refused')) as { message: string }).message, /checksum mismatch/);
    stream(edge.worker, there.subarray(0, there.byteLength >> 1), [65536], 'abort');
    // The real one, cut inside record heads, payloads and the trailer.
    stream(edge.worker, there, [13, 5, 70001, 3, 1 << 20, 11]);
    const resumed = await edge.next('resumed');
    assert.equal(resumed.type, 'resumed');
    const back = bodyBytes((await suspended(edge)).body);
    assert.ok(
      edge.logs().some((l) => /resumed in the instance prepared ahead, pages written as \d+ pieces arrived/.test(l)),
      `a first hop is written as it arrives: ${edge.logs().join(' | ')}`,
    );
    // Refused returns to cloud, whose parked instance holds the program as it left (the delta is against it).
    stream(cloud.worker, damaged(back, 40), [100]);
    assert.match(((await cloud.next('refused')) as { message: string }).message, /checksum mismatch/);
    stream(cloud.worker, back.subarray(0, back.byteLength - 1), [back.byteLength]);
    assert.ok(await cloud.next('refused'));
    stream(cloud.worker, back, [17, 4093]);
    assert.deepEqual(await cloud.next('exited'), { type: 'exited', code: 0 });
    assert.ok(cloud.logs().some((l) => /resumed in the parked instance, \d+ pages written/.test(l)), cloud.logs().join(' | '));
    // Each node printed the hash of the heap it held: edge's is cloud's before the hop.
    const [, before] = /^cloud: (\w+)$/m.exec(cloud.text())!;
    assert.match(edge.text(), new RegExp(`^edge: ${before}$`, 'm'));
    assert.match(cloud.text(), /^cloud again: \w+$/m);
  } finally {
    await Promise.all([cloud.worker.stop(), edge.worker.stop()]);
  }
});
