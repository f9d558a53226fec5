// The node's port: this node owns the listening socket and hands each connection to the protocol it speaks. With TLS
// (mutual, as grpc-js would do it: serverCredentials) the client says so in ALPN (this side's preference first: a
// hand-off client offers 'h2' too, to learn that an older node's port speaks only gRPC): 'h2' is gRPC, given to the grpc-js
// server through its connection injector; HANDOFF_ALPN is the direct hand-off transport (handoff-transport.ts). In a
// plaintext cluster the first bytes tell: the transport's MAGIC, else HTTP/2 (gRPC). One port as before: the config
// has no second one, and port+1 is often the next node's.
import * as grpc from '@grpc/grpc-js';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { HANDOFF_ALPN, MAGIC } from './handoff-frames.js';
import { socketPeer, tlsServerOptions, type NodeTls } from './tls.js';

/** A plaintext connection that has not sent its first bytes within this long is closed. */
const SNIFF_MS = 10_000;

export interface NodeListener {
  close(): void;
}

/**
 * Listen on `host:port`: gRPC connections go to `grpcServer` (which is not bound to any port itself), hand-off
 * connections to `onHandoff` with the node id the caller's certificate proves (undefined in plaintext).
 */
export function listenNode(o: {
  host: string;
  port: number;
  tls: NodeTls | undefined;
  grpcServer: grpc.Server;
  onHandoff: (socket: Socket, caller: string | undefined) => void;
  onError?: (e: Error) => void;
}): Promise<NodeListener> {
  // grpc-js's own TLS is not used: the connection is already TLS when it gets it (getAuthContext reads the TLSSocket).
  const injector = o.grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const toGrpc = (s: Socket) => injector.injectConnection(s);
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.setNoDelay(true);
  };
  let server: NetServer;
  if (o.tls) {
    server = createTlsServer(tlsServerOptions(o.tls, [HANDOFF_ALPN, 'h2']), (s: TLSSocket) => {
      track(s);
      if (s.alpnProtocol === HANDOFF_ALPN) o.onHandoff(s, socketPeer(s));
      else toGrpc(s);
    });
    // A handshake that fails (no certificate, another CA) ends that connection only.
    server.on('tlsClientError', () => undefined);
  } else {
    server = createNetServer((s) => {
      track(s);
      sniff(s, (isHandoff) => (isHandoff ? o.onHandoff(s, undefined) : toGrpc(s)));
    });
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port }, () => {
      server.off('error', reject);
      server.on('error', (e) => o.onError?.(e));
      resolve({
        close: () => {
          server.close();
          injector.destroy();
          for (const s of sockets) s.destroy();
        },
      });
    });
  });
}

/** Read a plaintext connection's first bytes, put them back, and say whether they are the hand-off transport's MAGIC. */
function sniff(s: Socket, route: (isHandoff: boolean) => void): void {
  let seen = Buffer.alloc(0);
  const timer = setTimeout(() => s.destroy(), SNIFF_MS);
  const onReadable = () => {
    for (let chunk: Buffer | null; (chunk = s.read() as Buffer | null) !== null; ) seen = Buffer.concat([seen, chunk]);
    const n = Math.min(seen.byteLength, MAGIC.byteLength);
    const matches = seen.subarray(0, n).equals(MAGIC.subarray(0, n));
    if (matches && seen.byteLength < MAGIC.byteLength) return; // more of it to come
    clearTimeout(timer);
    s.off('readable', onReadable);
    s.off('end', onEnd);
    s.unshift(seen);
    route(matches);
  };
  const onEnd = () => {
    clearTimeout(timer);
    s.destroy();
  };
  s.on('readable', onReadable);
  s.on('end', onEnd);
  s.on('error', () => undefined);
}
