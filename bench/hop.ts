// npm run bench:hop — what a hop costs in the program workers of two nodes, without any network: the two workers
// (src/serve/worker.ts) run in this process and this main thread hands each snapshot from one to the other, so the
// figures are the fixed cost of a hop outside the wire (suspend, encode, the messages between threads, decode,
// restore, resume) and what streaming a first hop into the receiver saves after the last byte.
//
//   small warm hop       heap_hops with a 1 MiB heap, a tenth of its pages changed per hop: downtime p50/p90/min,
//                        from the program stopping in one worker to it running in the other (wall clock).
//   N MiB first hop      a first hop's snapshot handed to a fresh worker in 1 MiB pieces at a steady pace (as from a
//                        link of --mbps MB/s): 'whole' gathers them and resumes after the last (as the gRPC receiver
//                        does), 'streamed' gives each piece to the worker as it comes (resumeBegin/Piece/End).
//                        after-last: from the last piece to the program running, ms (what a faster link cannot hide).
//
//   sender               what must be done on the sender before a first hop's first byte can leave, in this thread:
//                        'whole' encodes with the checksum and copies the whole body (as before the body went in
//                        parts), 'parts' encodes without it and copies the first part, sealing as it copies
//                        (worker.ts); 'all parts' is when the last part is ready (the others overlap the wire).
//
//   npm run bench:hop                 all cases
//   npm run bench:hop -- --quick      small sizes, a few hops (CI: that it works, not a timing)
//   npm run bench:hop -- --mbps=500   the pace of the pieces (default 500 MB/s, about what mutual TLS carries on loopback here)
import { encodeTransfer } from '../src/core/transfer.js';
import { bodyBytes, bodyParts, migrateBody, payloadOf } from '../src/serve/migrate-body.js';
import type { ProgramWorker, WorkerEvent } from '../src/serve/program-worker.js';
import { buildWasm } from '../test/support/build.js';
import { startTestWorker } from '../test/support/program-worker.js';
import { fmt, percentiles } from './stats.js';

const quick = process.argv.includes('--quick');
const mbps = Number(process.argv.find((a) => a.startsWith('--mbps='))?.slice('--mbps='.length) ?? 500);
const PIECE = 1 << 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wallMs = () => performance.timeOrigin + performance.now();

const wasm = await buildWasm({ sources: ['bench/programs/heap_hops.c'], args: ['-O2'] });

/** A worker whose events are awaited by type. */
function node(id: string, args: string[], relay?: (e: Extract<WorkerEvent, { type: 'suspended' }>) => void) {
  const waiters = new Map<string, (e: WorkerEvent) => void>();
  const worker = startTestWorker(
    wasm,
    (e) => {
      if (e.type === 'suspended' && relay) return relay(e);
      const waiter = waiters.get(e.type);
      if (!waiter && (e.type === 'failed' || e.type === 'trapped' || e.type === 'refused')) throw new Error(`${id}: ${JSON.stringify(e)}`);
      waiter?.(e);
    },
    { node: id, args },
  );
  const next = <T extends WorkerEvent['type']>(type: T) =>
    new Promise<Extract<WorkerEvent, { type: T }>>((resolve) => waiters.set(type, resolve as (e: WorkerEvent) => void));
  /** Once the worker has loaded the module and prepared its instance: it answers a hand-off (a bogus one). */
  const ready = async () => {
    const refused = next('refused');
    worker.resume(new Uint8Array(1), 0);
    await refused;
    waiters.delete('refused');
  };
  return { worker, next, ready };
}

/** Two workers hopping heap_hops between them: each snapshot goes straight from one to the other. */
async function smallHops(hops: number): Promise<number[]> {
  const args = ['1', String(hops), '10'];
  const downtimes: number[] = [];
  const workers: Record<string, ProgramWorker> = {};
  const relay = (e: Extract<WorkerEvent, { type: 'suspended' }>) => workers[e.migration.to]!.resume(e.encoded.body.messages.map(payloadOf), e.suspendedAtMs);
  const cloud = node('cloud', args, relay);
  const edge = node('edge', args, relay);
  [workers.cloud, workers.edge] = [cloud.worker, edge.worker];
  const onResumed = (n: typeof cloud) => {
    const loop = () => void n.next('resumed').then((e) => (downtimes.push(e.downtimeMs), loop()));
    loop();
  };
  onResumed(cloud);
  onResumed(edge);
  const exited = cloud.next('exited');
  cloud.worker.start({});
  await exited;
  await Promise.all([cloud.worker.stop(), edge.worker.stop()]);
  return downtimes.slice(2); // (the first hops warm the code up)
}

/** One first hop of an `mb` MiB heap into a fresh worker, its pieces paced at `mbps`; ms from the last piece to running. */
async function firstHop(mb: number, snapshot: Uint8Array, mode: 'whole' | 'streamed'): Promise<{ afterLast: number; downtime: number }> {
  const edge = node('edge', [String(mb), '1', '10']);
  await edge.ready();
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < snapshot.byteLength; at += PIECE) pieces.push(snapshot.slice(at, Math.min(at + PIECE, snapshot.byteLength)));
  const resumed = edge.next('resumed');
  const start = wallMs();
  if (mode === 'streamed') edge.worker.resumeBegin(snapshot.byteLength, start);
  for (let i = 0; i < pieces.length; i++) {
    // (Paced as a link of `mbps` delivers them.)
    const due = start + ((i + 1) * PIECE) / (mbps * 1000);
    while (wallMs() < due) await sleep(Math.max(0, Math.min(1, due - wallMs())));
    if (mode === 'streamed') edge.worker.resumePiece(pieces[i]!);
  }
  const last = wallMs();
  if (mode === 'streamed') edge.worker.resumeEnd();
  else edge.worker.resume(pieces, start);
  const e = await resumed;
  const running = wallMs();
  await edge.worker.stop();
  return { afterLast: running - last, downtime: e.downtimeMs };
}

/** A first hop's snapshot of an `mb` MiB heap (cloud's, for edge). */
async function firstSnapshot(mb: number): Promise<Uint8Array> {
  let got: (b: Uint8Array) => void;
  const bytes = new Promise<Uint8Array>((r) => (got = r));
  const cloud = node('cloud', [String(mb), '1', '10'], (e) => got(bodyBytes(e.encoded.body)));
  cloud.worker.start({});
  const snapshot = await bytes;
  await cloud.worker.stop();
  return snapshot;
}

console.log(`bench/programs/heap_hops.c in two program workers of this process (no network); first hops paced at ${mbps} MB/s in 1 MiB pieces`);
console.log('ms: downtime from the program stopping in one worker to it running in the other; after-last: from the last piece to running');
console.log('');
const downtimes = await smallHops(quick ? 8 : 200);
const small = percentiles(downtimes);
console.log('case                          hops    p50     p90     max');
console.log(`${'small warm hop (1 MiB heap)'.padEnd(28)} ${String(downtimes.length).padStart(5)} ${fmt(small.p50, 7)} ${fmt(small.p90, 7)} ${fmt(small.max, 7)}`);
console.log('');
console.log('first hop              sent     mode       runs  after-last (p50, max)   downtime p50');
for (const mb of quick ? [4] : [64, 256]) {
  const snapshot = await firstSnapshot(mb);
  const runs = quick ? 1 : mb > 64 ? 3 : 5;
  const results: Record<string, { afterLast: number; downtime: number }[]> = { whole: [], streamed: [] };
  // Alternated, so that the machine's load falls on both alike.
  for (let r = 0; r < runs; r++) for (const mode of ['whole', 'streamed'] as const) results[mode]!.push(await firstHop(mb, snapshot, mode));
  for (const mode of ['whole', 'streamed'] as const) {
    const after = percentiles(results[mode]!.map((x) => x.afterLast));
    const down = percentiles(results[mode]!.map((x) => x.downtime));
    console.log(
      `${`${mb} MiB heap`.padEnd(22)} ${`${(snapshot.byteLength / 2 ** 20).toFixed(1)} MB`.padStart(8)} ${mode.padEnd(9)} ${String(runs).padStart(5)} ` +
        `${fmt(after.p50, 9)} ${fmt(after.max, 9)}          ${fmt(down.p50, 9)}`,
    );
  }
}

/** The sender's work before a first hop's first byte can leave, ms (median of `runs`): whole body, first part, all parts. */
function sender(mb: number, runs: number): { whole: number; first: number; all: number } {
  // Dense, program-like pages (as heap_hops fills its heap): raw records, the bulk of a first hop.
  const memory = new Uint8Array(mb << 20);
  for (let i = 0; i < memory.length; i += 4) memory[i] = (i * 2654435761) >>> 24;
  const pages = Array.from({ length: memory.length >> 16 }, (_, index) => ({ index, data: memory.subarray(index << 16, (index + 1) << 16) }));
  const snapshot = { header: { module: 'bench', node: 'cloud' }, memory: { byteLength: memory.length, pages }, blobs: [] } as never;
  const times = { whole: [] as number[], first: [] as number[], all: [] as number[] };
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    const sealed = encodeTransfer(snapshot, { compression: true });
    migrateBody(sealed.chunks, new Set(sealed.raw.values()));
    times.whole.push(performance.now() - t);
    t = performance.now();
    const unsealed = encodeTransfer(snapshot, { compression: true, unsealed: true });
    const parts = bodyParts(unsealed.chunks, 4 << 20, new Set(unsealed.raw.values()), undefined, true);
    parts.next();
    times.first.push(performance.now() - t);
    for (const _ of parts);
    times.all.push(performance.now() - t);
  }
  const median = (xs: number[]) => percentiles(xs).p50;
  return { whole: median(times.whole), first: median(times.first), all: median(times.all) };
}

console.log('');
console.log('sender, before the first byte   whole (encode + checksum + copy)   parts (encode + first part)   all parts');
for (const mb of quick ? [4] : [64, 256]) {
  const s = sender(mb, quick ? 1 : 5);
  console.log(`${`${mb} MiB heap`.padEnd(30)} ${fmt(s.whole, 22)} ${fmt(s.first, 27)} ${fmt(s.all, 23)}`);
}
