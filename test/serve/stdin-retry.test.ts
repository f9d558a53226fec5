// A follower's read of the first node's stdin whose call is dropped on the way (the connection breaks while the
// first node waits for input) loses no bytes: the retry gets what the dropped call's read took, and the next read
// the bytes after it. Real pieces: the first node's Input handler (stdin-bridge.ts) on a gRPC server reading a real
// stream, the follower's reader (numbered requests, retried), and a TCP proxy between them that the test cuts.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/core/log.js';
import { Peers } from '../../src/serve/peers.js';
import { addKafuNodeService, type KafuNodeHandlers } from '../../src/serve/protocol.js';
import { forwardedStdin, inputServer, processStdinReader } from '../../src/serve/stdin-bridge.js';
import { freePorts } from '../support/cluster.js';

test('stdin: a dropped Input call is retried and gets the bytes its read took; none is lost', async () => {
  const [grpcPort] = await freePorts(1);
  const input = new PassThrough();
  const stdin = processStdinReader(input);
  const serve = inputServer(stdin);
  let arrived = 0;
  const arrivals: Array<() => void> = [];
  const server = new grpc.Server();
  addKafuNodeService(server, {
    input: async (req) => {
      arrived++;
      arrivals.splice(0).forEach((f) => f());
      return serve(req);
    },
  } as Partial<KafuNodeHandlers> as KafuNodeHandlers);
  await new Promise<void>((r, j) => server.bindAsync(`127.0.0.1:${grpcPort}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? j(e) : r())));
  // The follower reaches the first node through this proxy: cutting it drops the call in flight.
  const pairs: Socket[] = [];
  const proxy = createServer((inbound) => {
    const outbound = connect(grpcPort!, '127.0.0.1');
    inbound.pipe(outbound).pipe(inbound);
    for (const s of [inbound, outbound]) s.on('error', () => undefined);
    pairs.push(inbound, outbound);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyPort = (proxy.address() as { port: number }).port;
  const log = createLogger(() => undefined);
  const peers = new Peers('edge', [{ id: 'cloud', address: '127.0.0.1', port: proxyPort }, { id: 'edge', address: '127.0.0.1', port: 1 }] as never, log, undefined);
  const follower = forwardedStdin(peers, 'cloud', 20_000);
  const waitArrival = (n: number) => new Promise<void>((r) => (arrived >= n ? r() : arrivals.push(() => (arrived >= n ? r() : void waitArrival(n).then(r)))));
  let timer: NodeJS.Timeout | undefined;
  try {
    const done = (async () => {
      const first = follower.read(100);
      await waitArrival(1);
      for (const s of pairs.splice(0)) s.destroy(); // the call is dropped; its read waits on at the first node
      await waitArrival(2); // the retry is there
      input.write('first line\n');
      const a = Buffer.from((await first)!).toString();
      input.write('second line\n');
      const b = Buffer.from((await follower.read(100))!).toString();
      return [a, b];
    })();
    const lines = await Promise.race([done, new Promise<never>((_, j) => (timer = setTimeout(() => j(new Error('no answer in 20 s')), 20_000)))]);
    assert.deepEqual(lines, ['first line\n', 'second line\n']);
  } finally {
    clearTimeout(timer);
    stdin.close();
    peers.close();
    proxy.close();
    for (const s of pairs) s.destroy();
    server.forceShutdown();
  }
});

test('stdin: an Input request with an overlong stream id or a bad seq is refused, and nothing is read', async () => {
  const input = new PassThrough();
  const serve = inputServer(processStdinReader(input));
  const refused = (req: object) => assert.throws(() => serve({ from: 'edge', maxBytes: 10, ...req } as never), { code: grpc.status.INVALID_ARGUMENT });
  refused({ stream: 'x'.repeat(65), seq: 1 });
  refused({ stream: 'ab', seq: -1 });
  refused({ stream: 'ab', seq: 1.5 });
  input.end('line\n');
  assert.deepEqual(Buffer.from((await serve({ from: 'edge', maxBytes: 10, stream: 'ab', seq: 1 })).data).toString(), 'line\n');
});
