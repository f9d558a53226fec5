// The direct hand-off transport (src/serve/handoff-transport.ts) between real `kafu serve` processes: programs hop
// over it (mutual TLS and plaintext) with the output of a run without migration, strangers are refused at the
// handshake, and hostile frames into an idle node are refused alone, with the codes of the gRPC path, while the
// program elsewhere finishes normally.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { test } from 'node:test';
import { writeClusterCerts } from '../../src/certs/files.js';
import { PAGE_SIZE, memoryImage } from '../../src/core/snapshot.js';
import { encodeTransfer } from '../../src/core/transfer.js';
import { concat } from '../../src/core/wasm-sections.js';
import { FrameType, HANDOFF_ALPN, MAGIC, frame, frameHeader } from '../../src/serve/handoff-frames.js';
import { MAX_HANDOFF_CONNECTIONS } from '../../src/serve/handoff-transport.js';
import { MIGRATE_STALL_MS, migrateCodec, type MigrateStart } from '../../src/serve/protocol.js';
import { loadNodeTls, tlsClientOptions, type NodeTls } from '../../src/serve/tls.js';
import { buildWasm } from '../support/build.js';
import { runCluster } from '../support/cluster.js';
import { fuzzHeader } from '../support/fuzz.js';
import { assertProgramUnharmed, attackIdleNode } from '../support/fuzz-serve.js';
import { runPlain } from '../support/run.js';

/** What a raw hand-off connection got back: an answer frame, or the connection's end without one. */
type Answer = { code: number; details: string } | { reply: true } | { closed: string };

/** Open a hand-off connection to 127.0.0.1:`port` as node `as` (its TLS material; none: plaintext or no certificate). */
function open(port: number, tls: NodeTls | undefined, expected = 'edge', plaintext = false): Socket {
  return plaintext || !tls
    ? plaintext
      ? netConnect({ host: '127.0.0.1', port })
      : tlsConnect({ host: '127.0.0.1', port, servername: expected, ALPNProtocols: [HANDOFF_ALPN], rejectUnauthorized: false })
    : tlsConnect({ host: '127.0.0.1', port, ...tlsClientOptions(tls, expected, [HANDOFF_ALPN]) });
}

/**
 * Send `bytes` (after the MAGIC unless `noMagic`) on a new connection and wait for the first answer frame or the
 * connection's end (`end`: end our side after sending; else it stays open, as a sender that stopped sending).
 */
function rawHandoff(port: number, tls: NodeTls | undefined, bytes: Uint8Array[], o: { noMagic?: boolean; plaintext?: boolean; end?: boolean } = {}): { answer: Promise<Answer>; socket: Socket } {
  const socket = open(port, tls, 'edge', o.plaintext);
  const answer = new Promise<Answer>((resolve) => {
    let got = Buffer.alloc(0);
    socket.on(o.plaintext ? 'connect' : 'secureConnect', () => {
      if (!o.noMagic) socket.write(MAGIC);
      for (const b of bytes) socket.write(b);
      if (o.end) socket.end();
    });
    let magic = true;
    socket.on('data', (b: Buffer) => {
      got = Buffer.concat([got, b]);
      // (The receiver answers the magic with its own first.)
      if (magic && got.byteLength >= MAGIC.byteLength && got.subarray(0, MAGIC.byteLength).equals(MAGIC)) got = got.subarray(MAGIC.byteLength);
      if (got.byteLength >= MAGIC.byteLength) magic = false;
      if (got.byteLength < 5 || got.byteLength < 5 + got.readUInt32BE(1)) return;
      const payload = got.subarray(5, 5 + got.readUInt32BE(1));
      if (got[0] === FrameType.REPLY) resolve({ reply: true });
      else resolve({ code: payload.readUInt32BE(0), details: payload.subarray(4).toString('utf8') });
      socket.destroy();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => resolve({ closed: e.code ?? e.message }));
    socket.on('close', () => resolve({ closed: 'closed' }));
  });
  return { answer, socket };
}

const startFrame = (start: MigrateStart) => frame(FrameType.START, migrateCodec.encodeStart(start));
const dataFrame = (b: Uint8Array) => frame(FrameType.DATA, b);
const END = frame(FrameType.END);

function transfer(sha: string): Uint8Array {
  const memory = new Uint8Array(4 * PAGE_SIZE).map((_, i) => (i * 7) % 253);
  return concat(encodeTransfer({ header: fuzzHeader(sha, 'edge'), memory: memoryImage(memory), blobs: [new Uint8Array(10)] }, { compression: false }).chunks);
}

test('programs hop over the direct transport (mutual TLS and plaintext) with the output of a run without migration', async () => {
  const chatter = await buildWasm({ sources: ['test/programs/serve/chatter.c'], args: ['-O1'] });
  const plain = await runPlain(chatter, { args: ['3'] });
  for (const tls of ['mtls', 'plaintext'] as const) {
    const run = await runCluster(chatter, { nodes: ['cloud', 'edge'], args: ['3'], output: 'first_node', tls, flags: ['--log-level', 'debug'] });
    const logs = run.nodes.cloud!.stderr + run.nodes.edge!.stderr;
    assert.equal(run.nodes.cloud!.exitCode, 0, logs);
    assert.equal(run.nodes.cloud!.stdout, plain.stdout, `${tls}: the output of a run without migration`);
    const hops = logs.match(/hand-off to \S+: .*\((direct|gRPC)\)/g) ?? [];
    assert.ok(hops.length >= 6, `${tls}: ${hops.length} hops\n${logs}`);
    assert.ok(hops.every((h) => h.endsWith('(direct)')), `${tls}: every hop over the direct transport\n${hops.join('\n')}`);
    // The first hop to edge went to its worker as the pieces arrived (a streamed resume).
    assert.match(logs, /resumed in .*pages written as [1-9]\d* pieces arrived/, `${tls}: a streamed first hop\n${logs}`);
  }
});

test('hostile hand-off connections to an idle node are refused alone; strangers fail the handshake; the program finishes normally', async () => {
  const comeback = await buildWasm({ sources: ['test/programs/serve/comeback.c'], args: ['-O1'] });
  const dir = await mkdtemp(join(tmpdir(), 'kafu-handoff-'));
  const answers: Record<string, Answer> = {};
  try {
    const { run } = await attackIdleNode(comeback, dir, MIGRATE_STALL_MS / 1000 + 3, async ({ target, legit, sha, auth }) => {
      const port = Number(target.split(':')[1]);
      const ask = async (name: string, bytes: Uint8Array[], o?: { noMagic?: boolean; end?: boolean }) => void (answers[name] = await rawHandoff(port, auth.tls, bytes, o).answer);
      const bytes = transfer(sha);
      const start = (s: Partial<MigrateStart>) => startFrame({ ...legit, totalBytes: bytes.length, snapshotId: 'x', ...s });
      // A stalled sender holds the node's one receive slot: a second hand-off meanwhile is told to retry.
      const stalled = rawHandoff(port, auth.tls, [start({ totalBytes: 64 << 20, snapshotId: 'stalled' }), dataFrame(new Uint8Array(1 << 20))]);
      await new Promise((r) => setTimeout(r, 500));
      await ask('while another is received', [start({ snapshotId: 'second' }), dataFrame(bytes), END]);
      answers['stalled'] = await stalled.answer;
      await ask('oversize frame', [start({}), frameHeader(FrameType.DATA, 2 ** 31)]);
      await ask('data before start', [dataFrame(bytes), END]);
      await ask('more than declared', [start({ totalBytes: 10 }), dataFrame(bytes), END]);
      await ask('truncated', [start({}), dataFrame(bytes.subarray(0, 100)), END]);
      await ask('garbage frames', [new Uint8Array(64).fill(0xee)]);
      await ask('no magic', [new Uint8Array(64).fill(0x41)], { noMagic: true });
      await ask('start that does not decode', [frame(FrameType.START, new Uint8Array(40).fill(0xff))]);
      await ask('end without start', [END]);
      const flipped = bytes.slice();
      flipped[100]! ^= 1;
      await ask('a flipped bit', [start({ snapshotId: 'flip' }), dataFrame(flipped), END]);
      await ask('declared 1 TiB', [start({ totalBytes: 2 ** 40 }), dataFrame(bytes)]);
      await ask('a member speaking for another', [startFrame({ ...legit, from: 'edge', totalBytes: bytes.length, snapshotId: 'y' }), dataFrame(bytes), END]);
      // A connection that ends half-way through a frame: nothing answered, nothing kept.
      await ask('cut mid-frame', [start({ snapshotId: 'cut' }), frameHeader(FrameType.DATA, 1000), new Uint8Array(10)], { end: true });
      // A member opening more connections than a node keeps: the ones idle longest are closed (cloud's own kept
      // connection among them: its next hand-off opens a new one), none is refused.
      const crowd: Socket[] = [];
      const closed: boolean[] = [];
      for (let i = 0; i < MAX_HANDOFF_CONNECTIONS + 2; i++) {
        // One at a time, each taken by the node (its magic back) before the next.
        const socket = open(port, auth.tls);
        const n = crowd.push(socket) - 1;
        closed.push(false);
        socket.on('close', () => (closed[n] = true));
        socket.on('error', () => undefined);
        await new Promise<void>((resolve) => {
          socket.once('secureConnect', () => socket.write(MAGIC));
          socket.once('data', () => resolve());
          socket.once('close', () => resolve());
        });
      }
      await new Promise((r) => setTimeout(r, 500));
      answers['crowd: first'] = closed[0] ? { closed: 'closed' } : { code: -1, details: 'still open' };
      answers['crowd: last'] = closed.at(-1) ? { closed: 'closed' } : { code: 0, details: 'open' };
      for (const c of crowd) c.destroy();
      // Strangers: no certificate, and another cluster's certificate for "cloud".
      answers['no certificate'] = await rawHandoff(port, undefined, [start({ snapshotId: 'nocert' }), dataFrame(bytes), END]).answer;
      const foreign = join(dir, 'foreign');
      await mkdir(foreign);
      await writeClusterCerts('other', [{ id: 'cloud', address: '127.0.0.1', port: 1 }], join(foreign, 'certs'), { days: 30 });
      const other = loadNodeTls(join(foreign, 'x.yaml'), { ca: './certs/ca.crt', cert: './certs/${node}.crt', key: './certs/${node}.key' }, 'cloud')!;
      answers['another cluster'] = await rawHandoff(port, { ...other, ca: auth.tls.ca }, [start({ snapshotId: 'other' }), dataFrame(bytes), END]).answer;
    });
    // (A refused stranger's connection ends in the handshake: no answer frame.)
    const code = (name: string) => {
      const a = answers[name]!;
      return 'code' in a ? a.code : 'reply' in a ? 'reply' : 'closed';
    };
    const expected: Record<string, number | string> = {
      'while another is received': grpc.status.UNAVAILABLE,
      stalled: grpc.status.DEADLINE_EXCEEDED,
      'oversize frame': grpc.status.INVALID_ARGUMENT,
      'data before start': grpc.status.INVALID_ARGUMENT,
      'more than declared': grpc.status.INVALID_ARGUMENT,
      truncated: grpc.status.DATA_LOSS,
      'garbage frames': grpc.status.INVALID_ARGUMENT,
      'no magic': grpc.status.INVALID_ARGUMENT,
      'start that does not decode': grpc.status.INVALID_ARGUMENT,
      'end without start': grpc.status.INVALID_ARGUMENT,
      'a flipped bit': grpc.status.DATA_LOSS,
      'declared 1 TiB': grpc.status.RESOURCE_EXHAUSTED,
      'a member speaking for another': grpc.status.PERMISSION_DENIED,
      'cut mid-frame': 'closed',
      'crowd: first': 'closed',
      'crowd: last': 0,
      'no certificate': 'closed',
      'another cluster': 'closed',
    };
    assert.deepEqual(Object.fromEntries(Object.keys(expected).map((k) => [k, code(k)])), expected, JSON.stringify(answers, null, 1));
    const details = (name: string) => (answers[name] as { details: string }).details;
    assert.match(details('while another is received'), /receiving another hand-off/);
    assert.match(details('stalled'), new RegExp(`no snapshot bytes for ${MIGRATE_STALL_MS / 1000} s`));
    assert.match(details('oversize frame'), /over the limit/);
    assert.match(details('data before start'), /data before its start message/);
    assert.match(details('more than declared'), /sent more than the 10 bytes it declared/);
    assert.match(details('truncated'), /received 100 of \d+ snapshot bytes/);
    assert.match(details('no magic'), /not a hand-off connection/);
    assert.match(details('a flipped bit'), /checksum mismatch/);
    assert.match(details('declared 1 TiB'), /over this node's limit/);
    const logs = run.nodes.cloud!.stderr + run.nodes.edge!.stderr;
    assertProgramUnharmed(run, logs);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
