// The security review's malformed hand-offs, each sent to an idle node while the program sleeps on another: every
// one is refused alone (an error status to the caller, a warning in the receiver's log), the receiving node stays up
// and idle, and the program finishes normally, handed to that same node afterwards (as a delta against the memory it
// kept through the attack). Before, each of them ended the whole cluster with exit 1.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { test } from 'node:test';
import { PAGE_SIZE, memoryImage, resealFrame, u32 } from '../../src/core/snapshot.js';
import { encodeTransfer } from '../../src/core/transfer.js';
import { concat } from '../../src/core/wasm-sections.js';
import { MIGRATE_STALL_MS } from '../../src/serve/protocol.js';
import { buildWasm } from '../support/build.js';
import { fuzzHeader, rawMigrate, stalledMigrate } from '../support/fuzz.js';
import { assertProgramUnharmed, attackIdleNode } from '../support/fuzz-serve.js';

/** A whole transfer for `header`, or with its JSON header edited and the checksum made right again. */
function transfer(header: ReturnType<typeof fuzzHeader>, edit?: (h: Record<string, unknown>, bytes: Uint8Array) => Uint8Array | void): Uint8Array {
  const memory = new Uint8Array(4 * PAGE_SIZE).map((_, i) => (i * 7) % 253);
  const bytes = concat(encodeTransfer({ header, memory: memoryImage(memory), blobs: [new Uint8Array(10)] }, { compression: false }).chunks);
  if (!edit) return bytes;
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + u32(bytes, 12)))) as Record<string, unknown>;
  const raw = edit(json, bytes);
  if (raw) return resealFrame(raw);
  let text: Uint8Array = new TextEncoder().encode(JSON.stringify(json));
  text = concat([text, new Uint8Array((8 - (text.length % 8)) % 8).fill(0x20)]);
  const pre = bytes.slice(0, 16);
  new DataView(pre.buffer).setUint32(12, text.length, true);
  return resealFrame(concat([pre, text, bytes.subarray(16 + u32(bytes, 12))]));
}

test('malformed hand-offs to an idle node are refused alone; the program elsewhere finishes normally', async () => {
  const comeback = await buildWasm({ sources: ['test/programs/serve/comeback.c'], args: ['-O1'] });
  const dir = await mkdtemp(join(tmpdir(), 'kafu-hostile-'));
  const answers: Record<string, { code: number; details: string }> = {};
  try {
    const { run } = await attackIdleNode(comeback, dir, 2, async ({ target, legit, sha, auth }) => {
      const header = fuzzHeader(sha, 'edge');
      const record = (bytes: Uint8Array, r: number) => 16 + u32(bytes, 12) + r * (12 + PAGE_SIZE);
      const cases: Record<string, Uint8Array> = {
        'bad page index': transfer(header, (_, b) => {
          const copy = b.slice();
          new DataView(copy.buffer).setUint32(record(copy, 1), 9999, true);
          return copy;
        }),
        'duplicated records': transfer(header, (_, b) => {
          const copy = b.slice();
          new DataView(copy.buffer).setUint32(record(copy, 1), u32(copy, record(copy, 0)), true);
          return copy;
        }),
        'huge blob length': transfer(header, (h) => void (h.blobs = [2 ** 40])),
        '4 GiB memory': transfer(header, (h) => void ((h.memory as { byteLength: number }).byteLength = 2 ** 32)),
        'bad WASI state': transfer({ ...header, wasi: { fds: 'garbage', cwd: 12 } } as unknown as typeof header),
        'a snapshot of another node': transfer({ ...header, node: 'cloud' }),
      };
      for (const [name, bytes] of Object.entries(cases)) {
        answers[name] = await rawMigrate(target, auth, [{ start: { ...legit, totalBytes: bytes.length, snapshotId: name } }, { data: bytes }], 10_000);
      }
      const damaged = transfer(header).slice();
      damaged[100]! ^= 1;
      answers['a flipped bit'] = await rawMigrate(target, auth, [{ start: { ...legit, totalBytes: damaged.length, snapshotId: 'flip' } }, { data: damaged }], 10_000);
      answers['declared 1 TiB'] = await rawMigrate(target, auth, [{ start: { ...legit, totalBytes: 2 ** 40, snapshotId: 'huge' } }, { data: damaged }], 10_000);
    });
    const logs = run.nodes.cloud!.stderr + run.nodes.edge!.stderr;
    const expected = (name: string) =>
      name === 'a flipped bit' ? grpc.status.DATA_LOSS : name === 'declared 1 TiB' ? grpc.status.RESOURCE_EXHAUSTED : grpc.status.INVALID_ARGUMENT;
    for (const [name, a] of Object.entries(answers)) assert.equal(a.code, expected(name), `${name}: ${a.code} ${a.details}`);
    assert.match(answers['a flipped bit']!.details, /checksum mismatch/);
    assert.match(answers['declared 1 TiB']!.details, /over this node's limit/);
    assert.match(answers['bad page index']!.details, /page index 9999 out of range/);
    assert.match(answers['duplicated records']!.details, /two records for page/);
    assert.match(answers['huge blob length']!.details, /library-OS state of \d+ bytes is over the limit/);
    assert.equal((logs.match(/WARN .*refused a hand-off from cloud: /g) ?? []).length, Object.keys(answers).length, logs);
    assertProgramUnharmed(run, logs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('one hand-off is received at a time: a second is told to retry (UNAVAILABLE); one that stalls is ended after MIGRATE_STALL_MS, freeing the slot', async () => {
  const comeback = await buildWasm({ sources: ['test/programs/serve/comeback.c'], args: ['-O1'] });
  const dir = await mkdtemp(join(tmpdir(), 'kafu-hostile-slot-'));
  const answers: Record<string, { code: number; details: string }> = {};
  try {
    const { run } = await attackIdleNode(comeback, dir, 2, async ({ target, legit, sha, auth }) => {
      const bytes = transfer(fuzzHeader(sha, 'edge'));
      // A sender that declares a large snapshot, sends 1 MiB of it and stops (a member whose certificate leaked).
      const stalled = stalledMigrate(target, auth, [{ start: { ...legit, totalBytes: 64 << 20, snapshotId: 'stalled' } }, { data: new Uint8Array(1 << 20) }]);
      await new Promise((r) => setTimeout(r, 500));
      answers['while another is received'] = await rawMigrate(target, auth, [{ start: { ...legit, totalBytes: bytes.length, snapshotId: 'second' } }, { data: bytes }], 10_000);
      answers['stalled'] = await stalled.answer; // (a connection that stays open, sending nothing)
      stalled.stop();
      const damaged = bytes.slice();
      damaged[100]! ^= 1;
      answers['after it'] = await rawMigrate(target, auth, [{ start: { ...legit, totalBytes: damaged.length, snapshotId: 'after' } }, { data: damaged }], 10_000);
    });
    assert.equal(answers['while another is received']!.code, grpc.status.UNAVAILABLE, answers['while another is received']!.details);
    assert.match(answers['while another is received']!.details, /receiving another hand-off/);
    assert.equal(answers['stalled']!.code, grpc.status.DEADLINE_EXCEEDED, answers['stalled']!.details);
    assert.match(answers['stalled']!.details, new RegExp(`no snapshot bytes for ${MIGRATE_STALL_MS / 1000} s`));
    assert.equal(answers['after it']!.code, grpc.status.DATA_LOSS, `the slot is free again: ${answers['after it']!.details}`);
    assert.equal(run.nodes.cloud!.exitCode, 0, run.nodes.cloud!.stderr);
    assert.equal(run.nodes.cloud!.stdout, 'edge: visit 1\ncloud: sleeping\nedge: visit 2\ncloud: total 30\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
