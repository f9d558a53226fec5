// Seeded fuzzing of everything a node decodes from outside: transfers and snapshots (the decoders, in process) and
// Migrate calls (raw gRPC into a real `kafu serve`). Shared by the bounded tests of `npm test` (test/fuzz/) and the
// longer `npm run fuzz` (bench/fuzz.ts). A case passes when it is decoded or refused cleanly: a SnapshotFormatError
// or an error status, in bounded time and memory. Anything else (a TypeError, a RangeError, a hang, a crash, a
// damaged input accepted) is a failure, reported with the seed and case number that reproduce it.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PAGE_SIZE, SnapshotFormatError, decodeSnapshot, encodeSnapshot, flattenMemory, memoryImage, resealFrame, u32 } from '../../src/core/snapshot.js';
import { testHeader } from '../../src/core/snapshot-header.testlib.js';
import { decodeTransfer, encodeTransfer, type Baseline } from '../../src/core/transfer.js';
import { concat } from '../../src/core/wasm-sections.js';
import { PROTO_PATH, type MigrateChunk, type MigrateStart } from '../../src/serve/protocol.js';
import { channelCredentials, type NodeTls } from '../../src/serve/tls.js';

/** mulberry32: small, fast, the same sequence for the same seed. */
export class Rng {
  constructor(private state: number) {}
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

export interface Tally {
  cases: number;
  /** Cleanly refused. */
  refusals: number;
  /** Decoded (a mutation that still makes a valid frame). */
  accepted: number;
  failures: string[];
  byKind: Record<string, number>;
}

export const newTally = (): Tally => ({ cases: 0, refusals: 0, accepted: 0, failures: [], byKind: {} });

/** A test program's header: any engine would restore it only as far as its globals (this module has none). */
export function fuzzHeader(moduleSha256 = 'cd'.repeat(32), node = 'edge') {
  return testHeader({
    moduleSha256,
    node,
    migration: { from: 'cloud', to: node, reason: 'enter', fn: 'f' },
    migrationStack: { depth: 1, frames: [{ from: 'cloud', to: node, fn: 'f', depth: 1 }] },
    globals: [{ type: 'i32', value: 65536 }, { type: 'i64', value: '-5' }],
    createdBy: 'fuzz',
  });
}

/** Program-like memory: text, random, sparse, zero and structured pages. */
function memoryOf(rng: Rng, pages: number): Uint8Array {
  const memory = new Uint8Array(pages * PAGE_SIZE);
  for (let p = 0; p < pages; p++) {
    const page = memory.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
    switch (p % 5) {
      case 0:
        page.set(rng.bytes(4096).map((b) => 32 + (b % 90)));
        break;
      case 1:
        page.set(rng.bytes(PAGE_SIZE));
        break;
      case 2:
        for (let i = 0; i < PAGE_SIZE; i += 1000) page[i] = 7;
        break;
      case 4:
        for (let i = 0; i < PAGE_SIZE; i += 16) page[i] = i & 0xff;
    }
  }
  return memory;
}

export interface Seed {
  bytes: Uint8Array;
  /** The receiver's copy of the baseline a delta is against. */
  held?: Baseline;
  snapshot?: boolean;
}

/** Valid inputs to mutate: whole transfers in every compression, with blobs, a delta, and a version-3 snapshot. */
export function seeds(rng: Rng, header = fuzzHeader()): Seed[] {
  const out: Seed[] = [];
  const blobs = [rng.bytes(300), new Uint8Array(), rng.bytes(17)];
  const memory = memoryOf(rng, 6);
  for (const compression of [false, true, 'deflate'] as const) {
    out.push({ bytes: concat(encodeTransfer({ header, memory: memoryImage(memory), blobs }, { compression }).chunks) });
  }
  const first = encodeTransfer({ header, memory: memoryImage(memory), blobs: [] }, { compression: true });
  const next = memory.slice();
  for (let i = 0; i < 50; i++) next[rng.int(next.length)] ^= 1 + rng.int(255);
  next.fill(0, 2 * PAGE_SIZE, 3 * PAGE_SIZE);
  const delta = encodeTransfer({ header, memory: memoryImage(next), blobs: [] }, { compression: true, baseline: first.baseline });
  out.push({ bytes: concat(delta.chunks), held: { id: first.baseline.id, memory: memoryImage(memory.slice()) } });
  out.push({ bytes: concat(encodeSnapshot({ header, memory: memoryImage(memory), blobs })), snapshot: true });
  return out;
}

const HOSTILE_VALUES: unknown[] = [
  -1, 0, 1, 0.5, 2 ** 31, 2 ** 32, 2 ** 32 + 65536, 2 ** 53, 1e308, -1e308, null, true, '', 'x', '1', 'a'.repeat(5000),
  [], [1, 2, 3], [2 ** 40], {}, { id: 'x' }, { byteLength: 2 ** 32, pages: 65536 },
];

/** A random change to the value at a random path of a JSON object. */
function mutateJson(rng: Rng, value: unknown, depth = 0): unknown {
  if (depth > 0 && (typeof value !== 'object' || value === null || rng.chance(0.3))) return rng.pick(HOSTILE_VALUES);
  if (Array.isArray(value)) {
    const copy = [...value];
    if (copy.length === 0 || rng.chance(0.2)) copy.push(rng.pick(HOSTILE_VALUES));
    else copy[rng.int(copy.length)] = mutateJson(rng, copy[rng.int(copy.length)], depth + 1);
    return copy;
  }
  if (typeof value !== 'object' || value === null) return rng.pick(HOSTILE_VALUES);
  const copy = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const key = rng.pick(keys);
  const r = rng.int(10);
  if (r === 0) delete copy[key];
  else if (r === 1) copy[`extra${rng.int(3)}`] = rng.pick(HOSTILE_VALUES);
  else copy[key] = mutateJson(rng, copy[key], depth + 1);
  return copy;
}

/** The frame with its header replaced (length field and padding as an encoder writes them). */
function withHeader(bytes: Uint8Array, json: string): Uint8Array {
  let text: Uint8Array = new TextEncoder().encode(json);
  if (text.length % 8 !== 0) text = concat([text, new Uint8Array(8 - (text.length % 8)).fill(0x20)]);
  const rest = bytes.subarray(16 + u32(bytes, 12));
  const pre = bytes.slice(0, 16);
  new DataView(pre.buffer).setUint32(12, text.length, true);
  return concat([pre, text, rest]);
}

export const MUTATIONS = ['bitflip', 'bitflip-sealed', 'truncate', 'splice', 'length', 'header', 'random'] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** A mutated copy of a seed; `sealed`: its checksum recomputed, so that the structure is what gets tested. */
export function mutate(rng: Rng, all: Seed[]): { seed: Seed; bytes: Uint8Array; kind: Mutation; sealed: boolean } {
  const seed = rng.pick(all);
  const kind = rng.pick(MUTATIONS);
  const src = seed.bytes;
  let bytes: Uint8Array;
  switch (kind) {
    case 'bitflip':
    case 'bitflip-sealed': {
      bytes = src.slice();
      const at = new Set<number>();
      const flips = 1 + rng.int(8);
      // Distinct bits, so that a flip never undoes another: the damage is real.
      while (at.size < flips) at.add(rng.int(bytes.length * 8));
      for (const bit of at) bytes[bit >> 3]! ^= 1 << (bit & 7);
      break;
    }
    case 'truncate':
      bytes = src.slice(0, rng.int(src.length));
      break;
    case 'splice': {
      const other = rng.pick(all).bytes;
      bytes = concat([src.subarray(0, rng.int(src.length)), other.subarray(rng.int(other.length))]);
      break;
    }
    case 'length': {
      // A random value in a length, count or index field: the header length, or a u32 of the records.
      bytes = src.slice();
      const records = 16 + u32(src, 12);
      const at = rng.chance(0.2) ? 12 : records + 4 * rng.int(Math.max(1, (bytes.length - records - 16) >> 2));
      const value = rng.pick([0, 1, 3, 4, 12, 2048, 65535, 65536, 65537, 0x7fffffff, 0xffffffff, rng.next()]);
      new DataView(bytes.buffer).setUint32(at, value, true);
      break;
    }
    case 'header': {
      const json = JSON.parse(new TextDecoder().decode(src.subarray(16, 16 + u32(src, 12)))) as unknown;
      bytes = withHeader(src, rng.chance(0.1) ? rng.pick(['', '[]', 'null', '{', '"x"', '1e999']) : JSON.stringify(mutateJson(rng, json)));
      break;
    }
    case 'random':
      bytes = concat([src.subarray(0, 16), rng.bytes(rng.int(4096))]);
      break;
  }
  const sealed = kind !== 'bitflip' && bytes.length >= 16;
  return { seed, bytes: sealed ? resealFrame(bytes) : bytes, kind, sealed };
}

const CASE_MS = 2000;
const CASE_GROWTH_BYTES = 256 << 20;

/** Decode mutated inputs for `ms` milliseconds; returns the tally. */
/**
 * Fuzz the decoders for `ms`, and on until `minCases` have run (a loaded machine runs fewer a second), but never
 * more than 30 s past `ms`.
 */
export function fuzzDecoders(seed: number, ms: number, tally = newTally(), minCases = 0): Tally {
  const rng = new Rng(seed);
  const all = seeds(rng);
  const end = performance.now() + ms;
  const cap = end + 30_000;
  while (performance.now() < end || (tally.cases < minCases && performance.now() < cap)) {
    const n = tally.cases++;
    const m = mutate(rng, all);
    tally.byKind[m.kind] = (tally.byKind[m.kind] ?? 0) + 1;
    const held = m.seed.held;
    const heldBefore = held && flattenMemory(held.memory);
    const memBefore = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    const fail = (why: string) => tally.failures.push(`seed ${seed} case ${n} (${m.kind}): ${why}`);
    let accepted = false;
    try {
      if (m.seed.snapshot) decodeSnapshot(m.bytes);
      else decodeTransfer(m.bytes, (id) => (id === held?.id ? held.memory : undefined));
      accepted = true;
      tally.accepted++;
      if (!m.sealed) fail('a damaged input was accepted');
    } catch (e) {
      if (e instanceof SnapshotFormatError) {
        tally.refusals++;
        if (heldBefore && !flattenMemory(held.memory).every((b, i) => b === heldBefore[i])) {
          fail('a refused delta changed the baseline');
          held.memory = memoryImage(heldBefore); // keep fuzzing from a sound baseline
        }
      } else fail(`not a clean refusal: ${(e as Error).stack ?? String(e)}`);
    }
    if (accepted && held) {
      // An accepted delta took the baseline over (as the receiver's would): restore the seed's for the next case.
      held.memory = memoryImage(heldBefore!);
    }
    const took = performance.now() - t0;
    if (took > CASE_MS) fail(`took ${took.toFixed(0)} ms`);
    const grew = process.memoryUsage().arrayBuffers - memBefore;
    if (grew > CASE_GROWTH_BYTES) fail(`kept ${grew} bytes`);
  }
  return tally;
}

// Migrate calls --------------------------------------------------------------------------------------------------

let Client: grpc.ServiceClientConstructor | undefined;

/**
 * A raw Migrate call: exactly these messages, in this order (a real client never sends most of them). `whole`: as a
 * MigrateWhole call instead, with the first start message (or none) and every data message's bytes together.
 */
/** With `auth`, over mutual TLS as a member (a leaked certificate: the strongest attacker short of running the program). */
function rawClient(target: string, auth: { tls: NodeTls; node: string } | undefined): grpc.Client {
  Client ??= (
    (grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, { keepCase: false, longs: Number, defaults: true, oneofs: true })).kafu as grpc.GrpcObject)
      .v1 as grpc.GrpcObject
  ).KafuNode as grpc.ServiceClientConstructor;
  return new Client(target, auth ? channelCredentials(auth.tls, auth.node) : grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 << 20,
    ...(auth ? { 'grpc.ssl_target_name_override': auth.node } : {}),
  });
}

/** A Migrate call that sends `messages` and then nothing more (never ends): `stop` closes its connection. */
export function stalledMigrate(
  target: string,
  auth: { tls: NodeTls; node: string } | undefined,
  messages: MigrateChunk[],
): { stop: () => void; answer: Promise<{ code: number; details: string }> } {
  const client = rawClient(target, auth);
  const answer = new Promise<{ code: number; details: string }>((resolve) => {
    const stream = (client as unknown as Record<string, (md: object, cb: (e: grpc.ServiceError | null) => void) => grpc.ClientWritableStream<MigrateChunk>>)
      .Migrate!.call(client, { deadline: Date.now() + 120_000 }, (e) => resolve(e ? { code: e.code, details: e.details } : { code: grpc.status.OK, details: '' }));
    stream.on('error', () => undefined);
    for (const m of messages) stream.write(m);
  });
  return { stop: () => client.close(), answer };
}

export function rawMigrate(
  target: string,
  auth: { tls: NodeTls; node: string } | undefined,
  messages: MigrateChunk[],
  deadlineMs: number,
  whole = false,
): Promise<{ code: number; details: string }> {
  const client = rawClient(target, auth);
  if (whole) {
    const request = { start: messages.find((m) => m.start)?.start ?? null, data: concat(messages.flatMap((m) => (m.data ? [m.data] : []))) };
    return new Promise((resolve) => {
      (client as unknown as Record<string, (r: object, md: object, cb: (e: grpc.ServiceError | null) => void) => void>).MigrateWhole!.call(
        client,
        request,
        { deadline: Date.now() + deadlineMs },
        (e) => {
          client.close();
          resolve(e ? { code: e.code, details: e.details } : { code: grpc.status.OK, details: '' });
        },
      );
    });
  }
  return new Promise((resolve) => {
    const stream = (client as unknown as Record<string, (md: object, cb: (e: grpc.ServiceError | null) => void) => grpc.ClientWritableStream<MigrateChunk>>)
      .Migrate!.call(client, { deadline: Date.now() + deadlineMs }, (e) => {
        client.close();
        resolve(e ? { code: e.code, details: e.details } : { code: grpc.status.OK, details: '' });
      });
    stream.on('error', () => undefined); // the answer comes through the callback
    for (const m of messages) stream.write(m);
    stream.end();
  });
}

/** A hostile Migrate call built from a legitimate start (right module, from and to) and the seeds. */
export function hostileMigrate(rng: Rng, legit: MigrateStart, all: Seed[]): { kind: string; messages: MigrateChunk[] } {
  const start = (over: Partial<MigrateStart>, bytes: Uint8Array): MigrateChunk => ({ start: { ...legit, snapshotId: String(rng.next()), totalBytes: bytes.length, ...over } });
  const pieces = (bytes: Uint8Array): MigrateChunk[] => {
    const out: MigrateChunk[] = [];
    for (let at = 0; at < bytes.length; at += 1 + rng.int(bytes.length)) out.push({ data: bytes.subarray(at, at + 1 + rng.int(bytes.length)) });
    return out;
  };
  const data = mutate(rng, all.filter((s) => !s.snapshot)).bytes;
  const kind = rng.pick(['total', 'to', 'from', 'module', 'more-than-declared', 'data-first', 'two-starts', 'no-start', 'garbage', 'mutated']);
  switch (kind) {
    case 'total':
      return { kind, messages: [start({ totalBytes: rng.pick([0, -1, 1, 2 ** 40, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e20]) }, data), ...pieces(data)] };
    case 'to':
      return { kind, messages: [start({ to: rng.pick(['', 'cloud', 'nobody', 'x'.repeat(1000)]) }, data), ...pieces(data)] };
    case 'from':
      return { kind, messages: [start({ from: rng.pick(['', legit.to, 'nobody']) }, data), ...pieces(data)] };
    case 'module':
      return { kind, messages: [start({ moduleSha256: rng.pick(['', 'ab'.repeat(32), 'x']) }, data), ...pieces(data)] };
    case 'more-than-declared':
      return { kind, messages: [start({ totalBytes: 1 + rng.int(data.length) }, data), ...pieces(data), ...pieces(data)] };
    case 'data-first':
      return { kind, messages: [...pieces(data), start({}, data)] };
    case 'two-starts':
      return { kind, messages: [start({}, data), ...pieces(data), start({}, data)] };
    case 'no-start':
      return { kind, messages: pieces(data) };
    case 'garbage': {
      const bytes = rng.bytes(1 + rng.int(100_000));
      return { kind, messages: [start({}, bytes), ...pieces(bytes)] };
    }
    default:
      return { kind, messages: [start({}, data), ...pieces(data)] };
  }
}
