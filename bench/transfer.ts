// npm run bench:transfer — what a migration puts on the wire (src/core/transfer.ts) for memory images of 1 to 256 MB
// with program-like content, in each mode: full or delta against the previous hop, without compression, with it
// (memory_compression: true, the default: zero, sparse and xor-sparse records) and with deflate on top (opt-in, for
// slow links). Two scenarios: the first hop (no baseline yet: a delta is a full transfer) and a later hop where 5 %
// of the non-zero pages changed. Prints a table, with the cost of the checksum on each side.
import { CHECKSUM_BYTES, PAGE_SIZE, checksum, memoryImage as image, type MemoryImage } from '../src/core/snapshot.js';
import { decodeTransfer, encodeTransfer, type Baseline, type Compression } from '../src/core/transfer.js';

let seed = 0x2545f491;
const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const pick = (n: number) => Math.floor(rand() * n);

const WORDS = (
  'int char return struct static const void size_t uint32_t if else for while malloc free printf buffer index ' +
  'count length value result error node list next head tail key data user name path file open read write close ' +
  'the of and to in is that for it as with was on be by this are from at or an'
).split(' ');

function text(page: Uint8Array) {
  let s = '';
  while (s.length < PAGE_SIZE) s += WORDS[pick(WORDS.length)] + (pick(9) === 0 ? '\n' : pick(5) === 0 ? '(' : ' ');
  new TextEncoder().encodeInto(s.slice(0, PAGE_SIZE), page);
}

/** Records of pointers, small counters, floats and padding, as malloc'd structs look. */
function records(page: Uint8Array, end = PAGE_SIZE) {
  const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const base = 0x100000 + pick(1 << 20) * 16;
  for (let i = 0; i + 32 <= end; i += 32) {
    dv.setUint32(i, base + i + 32, true);
    dv.setUint32(i + 4, pick(1000), true);
    dv.setFloat64(i + 8, rand() * 100, true);
    dv.setUint32(i + 16, pick(4) === 0 ? pick(2 ** 32) : pick(256), true);
  }
}

const random = (page: Uint8Array) => void crypto.getRandomValues(page);
/** A page in use up to some point (the top of an arena, a half-filled buffer). */
const partial = (page: Uint8Array) => records(page, (1 + pick(15)) * 4096);

/** Program-like memory: 30 % zero pages, 15 % text, 25 % records, 15 % partly used, 15 % random. */
function programMemory(mb: number): Uint8Array {
  const memory = new Uint8Array(mb << 20);
  for (let i = 0; i < memory.length; i += PAGE_SIZE) {
    const page = memory.subarray(i, i + PAGE_SIZE);
    const r = rand();
    if (r < 0.3) continue;
    (r < 0.45 ? text : r < 0.7 ? records : r < 0.85 ? partial : random)(page);
  }
  return memory;
}

/** The memory after the program ran a while: 5 % of its non-zero pages changed (some words, or a 4 KiB region). */
function ranOn(memory: Uint8Array): Uint8Array {
  const next = memory.slice();
  const used = image(next).pages;
  for (let n = Math.ceil(used.length / 20); n > 0; n--) {
    const [{ data: page }] = used.splice(pick(used.length), 1) as [MemoryImage['pages'][number]];
    if (rand() < 0.5) for (let k = 0; k < 16; k++) page[pick(PAGE_SIZE)] ^= 1 + pick(255);
    else records(page.subarray(pick(15) * 4096), 4096);
  }
  return next;
}

const header = {
  moduleSha256: '00'.repeat(32),
  node: 'edge',
  migrationStack: { depth: 0, frames: [] },
  systemCalls: 0,
  globals: [],
  unwindArea: { ptr: 0, size: 0 },
  wasi: {},
  resources: {},
  createdBy: 'bench',
};

/**
 * One hop of `memory`: encode (delta against the sender's baseline), decode with the receiver's (which a delta
 * changes in place).
 */
function hop(memory: MemoryImage, compression: Compression, ends?: { sender: Baseline; receiver: Baseline }) {
  const sent = encodeTransfer({ header, memory, blobs: [] }, { compression, baseline: ends?.sender });
  const t0 = performance.now();
  const received = decodeTransfer(sent.chunks, (id) => (id === ends?.receiver.id ? ends.receiver.memory : undefined));
  const decodeMs = performance.now() - t0;
  // The checksum's share: one pass over the bytes sent, paid by the encoder and again by the decoder.
  const t1 = performance.now();
  checksum(sent.chunks, sent.stats.sentBytes - CHECKSUM_BYTES);
  const checksumMs = performance.now() - t1;
  return { stats: sent.stats, decodeMs, checksumMs, ends: { sender: received.baseline, receiver: sent.baseline } };
}

function row(scenario: string, mb: number, mode: string, r: ReturnType<typeof hop>) {
  const { sentBytes, rawBytes, pagesSent, encodeMs } = r.stats;
  console.log(
    `${scenario.padEnd(10)} ${String(mb).padStart(4)}  ${mode.padEnd(17)} ${(sentBytes / 2 ** 20).toFixed(2).padStart(9)}  ` +
      `${(sentBytes / rawBytes).toFixed(3).padStart(6)}  ${String(pagesSent).padStart(6)}  ` +
      `${encodeMs.toFixed(1).padStart(9)}  ${r.decodeMs.toFixed(1).padStart(9)}  ${r.checksumMs.toFixed(1).padStart(11)}`,
  );
}

const MODES: [Compression, string][] = [[false, ''], [true, '+compression'], ['deflate', '+deflate']];

// Warm up the JIT on a small image in every mode.
{
  const m = programMemory(4);
  for (const [compression] of MODES) hop(image(ranOn(m)), compression, hop(image(m.slice()), compression).ends);
}

console.log('scenario     MB  mode                sent MB   ratio   pages  encode ms  decode ms  checksum ms');
for (const mb of [1, 16, 64, 256]) {
  const before = programMemory(mb);
  const second = image(ranOn(before));
  for (const [compression, mode] of MODES) {
    // A copy each time: the delta's receiver holds the first hop's image and changes it in place.
    const firstHop = hop(image(before.slice()), compression);
    row('first hop', mb, `full${mode}`, firstHop);
    row('5% changed', mb, `full${mode}`, hop(second, compression));
    row('5% changed', mb, `delta${mode}`, hop(second, compression, firstHop.ends));
  }
}
console.log('ratio: bytes sent / memory size; on a first hop a delta has no baseline and is a full transfer.');
console.log('checksum ms: the XXH64 of the bytes sent, included in both encode and decode.');
