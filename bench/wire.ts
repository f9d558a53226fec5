// npm run bench:wire — what the node-to-node wire costs on loopback with the cluster's mutual TLS, layer by layer:
// raw node:tls, node:http2 over that TLS, and the nodes' own gRPC protocol (src/serve/protocol.ts: the Migrate call
// that carries a snapshot, a unary Heartbeat round trip), the direct hand-off transport that replaced Migrate
// (src/serve/handoff-transport.ts), and a prototype kafu serve does not use: the bytes sealed with AES-128-GCM over a
// second plain TCP connection (aeadRecords below; issue 11's "bulk channel", measured and not built). Bulk: MB/s
// moving `--mb` MiB (default 64) once, median of the rounds; small: p50 of a round trip. The layers alternate round
// by round, so a busy machine shows in all.
//
//   npm run bench:wire                  64 MiB, 5 rounds
//   npm run bench:wire -- --mb=256 --rounds=3
//   npm run bench:wire -- --only=node:tls,direct   the layers whose name contains one of these
import * as grpc from '@grpc/grpc-js';
import { createCipheriv, createDecipheriv, randomBytes, type DecipherGCM } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { writeClusterCerts } from '../src/certs/files.js';
import { loadNodeTls, serverCredentials, type NodeTls } from '../src/serve/tls.js';
import { MIGRATE_CHUNK_BYTES, migrateBody } from '../src/serve/migrate-body.js';
import { KafuNodeClient, addKafuNodeService, tuneServerConnections, type KafuNodeHandlers, type MigrateStart } from '../src/serve/protocol.js';
import { HandoffClient, HandoffServer } from '../src/serve/handoff-transport.js';
import { listenNode } from '../src/serve/node-listener.js';
import { freePorts } from '../test/support/cluster.js';
import { fmt, percentiles } from './stats.js';

const arg = (name: string, d: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);
const MB = arg('mb', 64);
const ROUNDS = arg('rounds', 5);
const PINGS = arg('pings', 300);
const BYTES = MB << 20;
const CHUNK = 1 << 20;
const payload = new Uint8Array(BYTES).map((_, i) => i * 7);

const dir = mkdtempSync(join(tmpdir(), 'kafu-bench-wire-'));
const nodes = ['cloud', 'edge'].map((id) => ({ id, address: '127.0.0.1', port: 1 }));
await writeClusterCerts('bench', nodes, join(dir, 'certs'), { days: 30 });
const files = (id: string) => ({ ca: join(dir, 'certs/ca.crt'), cert: join(dir, `certs/${id}.crt`), key: join(dir, `certs/${id}.key`) });
const cloud = loadNodeTls('bench', undefined, 'cloud', files('cloud'))!;
const edge = loadNodeTls('bench', undefined, 'edge', files('edge'))!;

/** A layer: set up once; `bulk` moves BYTES and resolves when the receiver has them all; `ping` one round trip. */
interface Layer {
  name: string;
  bulk(): Promise<void>;
  ping(): Promise<void>;
  close(): void;
}

async function rawTls(server: NodeTls, client: NodeTls): Promise<Layer> {
  const srv = tls.createServer({ ca: server.ca, cert: server.cert, key: server.key, requestCert: true, rejectUnauthorized: true });
  let onData: (b: Buffer) => void = () => {};
  srv.on('secureConnection', (s) => {
    s.setNoDelay(true);
    s.on('data', (b: Buffer) => onData.call(s, b));
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const sock = tls.connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, ca: client.ca, cert: client.cert, key: client.key, checkServerIdentity: () => undefined });
  await once(sock, 'secureConnect');
  sock.setNoDelay(true);
  const exchange = (send: () => void, expect: number) =>
    new Promise<void>((resolve) => {
      let got = 0;
      onData = function (this: tls.TLSSocket, b: Buffer) {
        got += b.byteLength;
        if (got >= expect) this.write(new Uint8Array(1));
      };
      sock.once('data', () => resolve());
      send();
    });
  return {
    name: 'node:tls',
    bulk: () => exchange(() => { for (let at = 0; at < BYTES; at += CHUNK) sock.write(payload.subarray(at, at + CHUNK)); }, BYTES),
    ping: () => exchange(() => sock.write(payload.subarray(0, 64)), 64),
    close: () => { sock.destroy(); srv.close(); },
  };
}

async function rawHttp2(server: NodeTls, client: NodeTls, window: boolean): Promise<Layer> {
  const settings = window ? { initialWindowSize: 16 << 20, maxFrameSize: (1 << 24) - 1 } : {};
  const srv = http2.createSecureServer({ ca: server.ca, cert: server.cert, key: server.key, requestCert: true, rejectUnauthorized: true, settings });
  srv.on('session', (s) => { if (window) s.setLocalWindowSize(32 << 20); });
  srv.on('stream', (stream) => {
    let got = 0;
    stream.on('data', (b: Buffer) => (got += b.byteLength));
    stream.on('end', () => { stream.respond({ ':status': 200 }); stream.end(String(got)); });
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const session = http2.connect(`https://127.0.0.1:${(srv.address() as AddressInfo).port}`, { ca: client.ca, cert: client.cert, key: client.key, checkServerIdentity: () => undefined, settings });
  await once(session, 'remoteSettings');
  const post = (send: (s: http2.ClientHttp2Stream) => void) =>
    new Promise<void>((resolve, reject) => {
      const s = session.request({ ':method': 'POST', ':path': '/' });
      s.on('response', () => {});
      s.on('data', () => {});
      s.on('end', () => resolve());
      s.on('error', reject);
      send(s);
      s.end();
    });
  return {
    name: window ? 'node:http2, wide windows' : 'node:http2, default windows',
    bulk: () => post((s) => { for (let at = 0; at < BYTES; at += CHUNK) s.write(payload.subarray(at, at + CHUNK)); }),
    ping: () => post((s) => s.write(payload.subarray(0, 64))),
    close: () => { session.close(); srv.close(); },
  };
}

/**
 * A prototype, not what kafu serve does (issue 11, "bulk channel"): the bytes over a second, plain TCP connection,
 * sealed with AES-128-GCM in records of `record` bytes (u32 length and u32 sequence number in the clear and in the
 * AAD, the sequence number as the nonce, a 16-byte tag after each), under a key both ends export from the mutual-TLS
 * connection (RFC 5705 keying material, so bound to the peers' certificates). The receiver decrypts each record as
 * its bytes arrive and counts it only once its tag checks; like node:tls above it keeps no bytes. What it measures:
 * whether Node's TLS (16 KiB records, a JS 'data' event and a buffer each on the receiving side) costs much more than
 * the AEAD itself.
 */
async function aeadRecords(server: NodeTls, client: NodeTls, record: number): Promise<Layer> {
  const control = tls.createServer({ ca: server.ca, cert: server.cert, key: server.key, requestCert: true, rejectUnauthorized: true });
  control.listen(0, '127.0.0.1');
  await once(control, 'listening');
  const accepted = once(control, 'secureConnection');
  const ctl = tls.connect({ host: '127.0.0.1', port: (control.address() as AddressInfo).port, ca: client.ca, cert: client.cert, key: client.key, checkServerIdentity: () => undefined });
  await once(ctl, 'secureConnect');
  const [serverCtl] = (await accepted) as [tls.TLSSocket];
  const transfer = randomBytes(16);
  const keys = [ctl, serverCtl].map((s) => s.exportKeyingMaterial(16, 'kafu-bulk v1', transfer));
  if (!keys[0]!.equals(keys[1]!)) throw new Error('the two ends exported different keys');
  const key = keys[0]!;
  const iv = (seq: number) => {
    const b = Buffer.alloc(12);
    b.writeUInt32BE(seq, 8);
    return b;
  };
  let onRecord: (length: number) => void = () => {};
  const bulk = net.createServer((s) => {
    s.setNoDelay(true);
    const head = Buffer.alloc(8);
    const tag = Buffer.alloc(16);
    let [headHave, left, tagLeft, seq, length] = [0, 0, 0, 0, 0];
    let decipher: DecipherGCM | undefined;
    s.on('data', (b: Buffer) => {
      for (let at = 0; at < b.byteLength; ) {
        if (headHave < 8) {
          const n = Math.min(8 - headHave, b.byteLength - at);
          b.copy(head, headHave, at, at + n);
          [headHave, at] = [headHave + n, at + n];
          if (headHave < 8) continue;
          length = head.readUInt32BE(0);
          if (length > record || head.readUInt32BE(4) !== seq) throw new Error('a record out of order or too long');
          decipher = createDecipheriv('aes-128-gcm', key, iv(seq));
          decipher.setAAD(head);
          [left, tagLeft] = [length, 16];
        } else if (left > 0) {
          const n = Math.min(left, b.byteLength - at);
          decipher!.update(b.subarray(at, at + n));
          [left, at] = [left - n, at + n];
        } else {
          const n = Math.min(tagLeft, b.byteLength - at);
          b.copy(tag, 16 - tagLeft, at, at + n);
          [tagLeft, at] = [tagLeft - n, at + n];
          if (tagLeft > 0) continue;
          decipher!.setAuthTag(tag);
          decipher!.final(); // throws on a bad tag
          [headHave, seq] = [0, seq + 1];
          onRecord(length);
        }
      }
    });
  });
  bulk.listen(0, '127.0.0.1');
  await once(bulk, 'listening');
  const sock = net.connect({ host: '127.0.0.1', port: (bulk.address() as AddressInfo).port });
  await once(sock, 'connect');
  sock.setNoDelay(true);
  let seq = 0;
  const send = (bytes: Uint8Array) =>
    new Promise<void>((resolve) => {
      let got = 0;
      onRecord = (n) => {
        got += n;
        if (got >= bytes.byteLength) resolve();
      };
      sock.cork();
      for (let at = 0; at < bytes.byteLength; at += record) {
        const plain = bytes.subarray(at, Math.min(at + record, bytes.byteLength));
        const head = Buffer.alloc(8);
        head.writeUInt32BE(plain.byteLength, 0);
        head.writeUInt32BE(seq, 4);
        const cipher = createCipheriv('aes-128-gcm', key, iv(seq++));
        cipher.setAAD(head);
        const sealed = cipher.update(plain);
        cipher.final();
        sock.write(head);
        sock.write(sealed);
        sock.write(cipher.getAuthTag());
      }
      sock.uncork();
    });
  return {
    name: `AES-GCM records of ${record >> 10} KiB`,
    bulk: () => send(payload),
    ping: () => send(payload.subarray(0, 64)),
    close: () => { sock.destroy(); bulk.close(); ctl.destroy(); control.close(); },
  };
}

/** A small program's hop: what bench:serve's warm hops send. */
const SMALL = 6 * 1024;

/**
 * The nodes' gRPC protocol with a stub node behind it (no program). `now`: as kafu serve sends today; else as before
 * this benchmark was written: protobufjs encoding each data message, small snapshots in a Migrate stream too, and
 * Nagle's algorithm left on for the connections the server accepts. The receiver is today's either way (it keeps
 * grpc-js's message buffers, where it used to concatenate them after the last: a copy more).
 */
async function kafuGrpc(server: NodeTls, client: NodeTls, now: boolean): Promise<Layer> {
  const srv = new grpc.Server({ 'grpc.max_receive_message_length': 64 << 20 });
  const fail = () => Promise.reject(new Error('not in this benchmark'));
  const handlers: KafuNodeHandlers = {
    hello: fail, output: fail, input: fail, shutdown: fail, socket: fail,
    heartbeat: async () => ({ running: false }),
    migrateStart: () => () => {},
    migrate: async (start, data) => {
      if (data.reduce((n, c) => n + c.byteLength, 0) !== start.totalBytes) throw new Error('short');
      return { downtimeMs: 0 };
    },
  };
  addKafuNodeService(srv, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    srv.bindAsync('127.0.0.1:0', serverCredentials(server), (e, p) => (e ? reject(e) : resolve(p))),
  );
  tuneServerConnections(srv);
  if (!now) {
    const servers = (srv as unknown as { http2Servers: Map<import('node:net').Server, unknown> }).http2Servers;
    for (const h2 of servers.keys()) h2.on('connection', (socket: import('node:net').Socket) => socket.setNoDelay(false));
  }
  const c = new KafuNodeClient(`127.0.0.1:${port}`, 'edge', client);
  const start = (totalBytes: number): MigrateStart => ({ from: 'cloud', to: 'edge', moduleSha256: '', reason: '', suspendedAtMs: 0, totalBytes, snapshotId: 'x', output: [] });
  const plain = (bytes: Uint8Array) => {
    const messages = [];
    for (let at = 0; at < bytes.byteLength; at += MIGRATE_CHUNK_BYTES) messages.push({ data: bytes.subarray(at, at + MIGRATE_CHUNK_BYTES) });
    return { messages };
  };
  const [big, small] = [payload, payload.subarray(0, SMALL)];
  const [bigBody, smallBody] = now ? [migrateBody([big]), migrateBody([small])] : [plain(big), plain(small)];
  return {
    name: now ? 'kafu gRPC, now' : 'kafu gRPC, before',
    bulk: async () => void (await c.migrate(start(BYTES), bigBody, { deadlineMs: 60_000 })),
    ping: async () => void (await c.migrate(start(SMALL), smallBody, { deadlineMs: 10_000, stream: !now })),
    close: () => { c.close(); srv.forceShutdown(); },
  };
}

/** The nodes' direct hand-off transport (handoff-transport.ts) on a node's port (node-listener.ts), gRPC beside it. */
async function kafuDirect(server: NodeTls, client: NodeTls): Promise<Layer> {
  const srv = new grpc.Server();
  const fail = () => Promise.reject(new Error('not in this benchmark'));
  const handlers: KafuNodeHandlers = {
    hello: fail, output: fail, input: fail, shutdown: fail, socket: fail, heartbeat: fail,
    migrateStart: () => () => {},
    migrate: async (start, data) => {
      if (data.reduce((n, c) => n + c.byteLength, 0) !== start.totalBytes) throw new Error('short');
      return { downtimeMs: 0 };
    },
  };
  const slot = { busy: false };
  addKafuNodeService(srv, handlers, slot);
  const [port] = await freePorts(1);
  const handoffs = new HandoffServer(handlers, slot);
  const listener = await listenNode({ host: '127.0.0.1', port: port!, tls: server, grpcServer: srv, onHandoff: (s, caller) => handoffs.accept(s, caller) });
  const c = new HandoffClient('127.0.0.1', port!, 'edge', client);
  const start = (totalBytes: number): MigrateStart => ({ from: 'cloud', to: 'edge', moduleSha256: '', reason: '', suspendedAtMs: 0, totalBytes, snapshotId: 'x', output: [] });
  const [bigBody, smallBody] = [migrateBody([payload]), migrateBody([payload.subarray(0, SMALL)])];
  return {
    name: 'kafu direct hand-off',
    bulk: async () => void (await c.migrate(start(BYTES), bigBody, { deadlineMs: 60_000 })),
    ping: async () => void (await c.migrate(start(SMALL), smallBody, { deadlineMs: 10_000 })),
    close: () => { c.close(); listener.close(); srv.forceShutdown(); },
  };
}

try {
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const all = [() => rawTls(edge, cloud), () => rawHttp2(edge, cloud, false), () => rawHttp2(edge, cloud, true), () => kafuGrpc(edge, cloud, false), () => kafuGrpc(edge, cloud, true), () => kafuDirect(edge, cloud), () => aeadRecords(edge, cloud, 1 << 20), () => aeadRecords(edge, cloud, 64 << 10)];
  const layers: Layer[] = [];
  for (const make of all) {
    const l = await make();
    if (!only || only.split(',').some((o) => l.name.includes(o))) layers.push(l);
    else l.close();
  }
  const bulk = new Map<string, number[]>(layers.map((l) => [l.name, []]));
  const cpu = new Map<string, number[]>(layers.map((l) => [l.name, []]));
  const ping = new Map<string, number[]>(layers.map((l) => [l.name, []]));
  for (const l of layers) { await l.bulk(); for (let i = 0; i < 20; i++) await l.ping(); } // warm up
  for (let r = 0; r < ROUNDS; r++) {
    for (const l of layers) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await l.bulk();
      bulk.get(l.name)!.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.get(l.name)!.push((c.user + c.system) / 1000);
      for (let i = 0; i < PINGS / ROUNDS; i++) {
        const t1 = performance.now();
        await l.ping();
        ping.get(l.name)!.push(performance.now() - t1);
      }
    }
  }
  console.log(`loopback, mutual TLS (the cluster's certificates), ${MB} MiB bulk in 1 MiB writes, ${ROUNDS} rounds interleaved;`);
  console.log(`round trip: 64 bytes and an answer (node:tls, node:http2), a ${SMALL / 1024} KiB Migrate call (kafu gRPC) or hand-off (direct)`);
  console.log('(both ends run in this process: CPU ms is the work of sender and receiver together, which load changes little)');
  console.log('layer                          bulk ms (p50)    MB/s  CPU ms (p50)  round trip ms (p50)  (p90)');
  for (const l of layers) {
    const b = percentiles(bulk.get(l.name)!);
    const p = percentiles(ping.get(l.name)!);
    console.log(`${l.name.padEnd(30)} ${fmt(b.p50, 13)} ${fmt(BYTES / 1e6 / (b.p50 / 1000), 7)} ${fmt(percentiles(cpu.get(l.name)!).p50, 13)} ${fmt(p.p50, 20)} ${fmt(p.p90, 7)}`);
  }
  for (const l of layers) l.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
