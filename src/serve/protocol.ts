// The gRPC protocol between nodes (proto/kafu.proto), loaded at run time with proto-loader: TypeScript types for
// its messages, the server side (handlers → service) and a client whose calls are single attempts (peers.ts
// decides about retries).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { payloadOf, useHeads, type MigrateBody } from './migrate-body.js';
import { channelCredentials, peerNodeId, type NodeTls } from './tls.js';

export const PROTO_PATH = fileURLToPath(new URL('../../../proto/kafu.proto', import.meta.url));

export interface HelloRequest { from: string; /** From the first node: its listener handles. */ listeners?: string[] }
export interface HelloReply { nodeId: string; configName: string; moduleSha256: string; storage: Record<string, string>; runtime: string; listeners: string[] }
export interface MigrateStart {
  from: string;
  to: string;
  moduleSha256: string;
  reason: string;
  suspendedAtMs: number;
  totalBytes: number;
  snapshotId: string;
  /** Program output from the sender not yet delivered to the first node: delivered before the program resumes. */
  output: OutputChunk[];
  /** A pre-copy round (precopy.ts), not a hand-off: the program stays on the sender. */
  precopy?: boolean;
}
export type MigrateChunk = { start: MigrateStart; data?: undefined } | { data: Uint8Array; start?: undefined };
/** (`start` null when not sent.) */
export interface MigrateWholeRequest { start: MigrateStart | null; data: Uint8Array }
export interface MigrateReply { downtimeMs: number }
export interface OutputChunk { fd: number; data: Uint8Array }
export interface OutputRequest { from: string; stream: string; seq: number; chunks: OutputChunk[] }
export interface InputRequest { from: string; maxBytes: number; stream: string; seq: number }
export interface InputReply { data: Uint8Array; eof: boolean }
export interface HeartbeatRequest { from: string; executionStarted: boolean }
export interface HeartbeatReply { running: boolean }
export interface ShutdownRequest { from: string; reason: string; exitCode: number; programFinished: boolean }
export type Empty = Record<string, never>;
/** The Socket call's messages as proto-loader gives them (every field present, defaults for those not sent). */
export interface SocketRequest {
  from: string;
  op: string;
  id: string;
  seq: number;
  data: Uint8Array;
  maxBytes: number;
  peek: boolean;
  waitAll: boolean;
  nonblocking: boolean;
  how: number;
  waits: Array<{ id: string; write: boolean }>;
  timeoutMs: number;
}
export interface SocketReply {
  errno: number;
  message: string;
  lost: boolean;
  id: string;
  count: number;
  data: Uint8Array;
  ready: Array<{ ready: boolean; nbytes: number; hangup: boolean; errno: number }>;
}

/**
 * What a node serves; each handler may throw an RpcRefusal or resolve. `caller` is the node id the caller's TLS
 * certificate proves, undefined in a plaintext cluster (access.ts applies the rules).
 */
export interface KafuNodeHandlers {
  hello(req: HelloRequest, caller: string | undefined): Promise<HelloReply>;
  /**
   * A Migrate call's start message, checked before any of its data is kept (its totalBytes within this node's limits
   * above all: that many bytes are set aside for it): throws the refusal, or returns what sees each piece of data as
   * it arrives, once the node's receive slot is this call's (each the only bytes of its buffer; `movable`: nothing
   * else uses that buffer any more, see MigrateIntake.add). It returns true when it took the piece (moved its buffer
   * on, to the program's thread): migrate then gets only the pieces it did not take.
   */
  migrateStart(start: MigrateStart, caller: string | undefined): ((data: Uint8Array, movable: boolean) => boolean | void) | undefined;
  /**
   * `data`: the bytes received in order that migrateStart's observer did not take, each piece the only bytes of its
   * buffer, so that the pieces can move to another thread (buffersOf); `received`: all bytes received (fewer than
   * start.totalBytes if the sender sent less).
   */
  migrate(start: MigrateStart, data: Uint8Array[], caller: string | undefined, received: number): Promise<MigrateReply>;
  /** A call whose start migrateStart took ended before all its data came (refused, or its sender gone). */
  migrateDropped?(start: MigrateStart): void;
  output(req: OutputRequest, caller: string | undefined): Promise<Empty>;
  input(req: InputRequest, caller: string | undefined): Promise<InputReply>;
  heartbeat(req: HeartbeatRequest, caller: string | undefined): Promise<HeartbeatReply>;
  shutdown(req: ShutdownRequest, caller: string | undefined): Promise<Empty>;
  /** `cancelled` aborts when the caller cancels the call (or goes away). */
  socket(req: SocketRequest, caller: string | undefined, cancelled: AbortSignal): Promise<Partial<SocketReply>>;
}

/** A refusal a handler sends back to the caller, with a gRPC status code. */
export class RpcRefusal extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** gRPC's largest message between nodes (either way), and so the largest start message of a hand-off. */
export const MAX_MESSAGE_BYTES = 64 << 20;

let definition: grpc.GrpcObject | undefined;
let migrateMethod: protoLoader.MethodDefinition<object, object> | undefined;
function kafuPackage(): { KafuNode: grpc.ServiceClientConstructor } {
  if (!definition) {
    const loaded = protoLoader.loadSync(PROTO_PATH, { keepCase: false, longs: Number, defaults: true, oneofs: true });
    migrateMethod = (loaded['kafu.v1.KafuNode'] as protoLoader.ServiceDefinition).Migrate!;
    // A Migrate data message encoded already (migrate-body.ts) is sent as it is.
    const migrate = (loaded['kafu.v1.KafuNode'] as protoLoader.ServiceDefinition).Migrate!;
    const encode = migrate.requestSerialize;
    migrate.requestSerialize = (m: object) => (m instanceof Uint8Array ? Buffer.from(m.buffer, m.byteOffset, m.byteLength) : encode(m));
    definition = grpc.loadPackageDefinition(loaded);
  }
  return (definition.kafu as grpc.GrpcObject).v1 as unknown as { KafuNode: grpc.ServiceClientConstructor };
}

/**
 * A Migrate call's start message and reply as protobuf bytes, decoded as grpc-js decodes them: the direct hand-off
 * transport (handoff-transport.ts) carries these, so its start message is read by the same rules as a gRPC one.
 */
export const migrateCodec = {
  encodeStart: (start: MigrateStart): Uint8Array => migrateMethod0().requestSerialize({ start }),
  /** Throws unless `bytes` is a MigrateChunk holding a start message. */
  decodeStart(bytes: Uint8Array): MigrateStart {
    let chunk: MigrateChunk;
    try {
      chunk = migrateMethod0().requestDeserialize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as MigrateChunk;
    } catch (e) {
      throw invalid(`a start message that does not decode: ${(e as Error).message}`);
    }
    if (!chunk.start) throw invalid('Migrate without a start message');
    return chunk.start;
  },
  encodeReply: (reply: MigrateReply): Uint8Array => migrateMethod0().responseSerialize(reply),
  decodeReply: (bytes: Uint8Array): MigrateReply =>
    migrateMethod0().responseDeserialize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as MigrateReply,
};
const migrateMethod0 = () => {
  kafuPackage();
  return migrateMethod!;
};

/** The node id the caller's certificate proves (TLS), else undefined. */
const callerOf = (call: Pick<grpc.ServerUnaryCall<unknown, unknown>, 'getAuthContext'>) => peerNodeId(call.getAuthContext()?.sslPeerCertificate);

const unary =
  <Req, Rep>(fn: (req: Req, caller: string | undefined) => Promise<Rep>): grpc.handleUnaryCall<Req, Rep> =>
  (call, callback) => {
    fn(call.request, callerOf(call)).then(
      (reply) => callback(null, reply),
      (e: unknown) => callback(toServiceError(e)),
    );
  };

export function toServiceError(e: unknown): Partial<grpc.ServiceError> {
  if (e instanceof RpcRefusal) return { code: e.code, details: e.message };
  return { code: grpc.status.INTERNAL, details: e instanceof Error ? e.message : String(e) };
}

/** `slot`: the node's one place for a snapshot being received, shared with the direct hand-off transport. */
export function addKafuNodeService(server: grpc.Server, h: KafuNodeHandlers, slot: ReceiveSlot = { busy: false }): void {
  server.addService(kafuPackage().KafuNode.service, {
    Hello: unary(h.hello),
    Output: unary(h.output),
    Input: unary(h.input),
    Heartbeat: unary(h.heartbeat),
    Shutdown: unary(h.shutdown),
    Socket: ((call: grpc.ServerUnaryCall<SocketRequest, Partial<SocketReply>>, callback: grpc.sendUnaryData<Partial<SocketReply>>) => {
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort());
      h.socket(call.request, callerOf(call), ac.signal).then(
        (reply) => callback(null, reply),
        (e: unknown) => callback(toServiceError(e)),
      );
    }) as grpc.handleUnaryCall<SocketRequest, Partial<SocketReply>>,
    Migrate: ((call: grpc.ServerReadableStream<MigrateChunk, MigrateReply>, callback: grpc.sendUnaryData<MigrateReply>) => {
      receiveMigrate(call, callback, h, slot);
    }) as grpc.handleClientStreamingCall<MigrateChunk, MigrateReply>,
    MigrateWhole: ((call: grpc.ServerUnaryCall<MigrateWholeRequest, MigrateReply>, callback: grpc.sendUnaryData<MigrateReply>) => {
      receiveMigrateWhole(call, callback, h, slot);
    }) as grpc.handleUnaryCall<MigrateWholeRequest, MigrateReply>,
  });
}

/**
 * What a node keeps of one Migrate or MigrateWhole call, bounded: its start message is checked
 * (handlers.migrateStart: sizes included) before any data is kept, and the data is counted as it arrives. grpc-js
 * hands a large message over in a buffer of its own (its framing, the field's tag and length, the bytes): that
 * piece is kept as it is, to move to the program's thread without a copy; a piece of a buffer shared with more (a
 * small message, from Node's buffer pool) is copied. Each step throws the RpcRefusal to answer with.
 */
export class MigrateIntake {
  private start: MigrateStart | undefined;
  private data: Uint8Array[] | undefined;
  private received = 0;
  /** Bytes the sender said come next (announce), received or not. */
  private announced = 0;
  private observe: ((data: Uint8Array, movable: boolean) => boolean | void) | undefined;
  /** This call holds the node's receive slot. */
  private holding = false;

  constructor(
    private readonly h: KafuNodeHandlers,
    private readonly caller: string | undefined,
    private readonly slot: ReceiveSlot,
  ) {}

  begin(start: MigrateStart): void {
    if (this.start) throw invalid('Migrate with two start messages');
    this.start = start;
    this.observe = this.h.migrateStart(start, this.caller);
    // One snapshot at a time is received and resumed (a node takes one program): others are told to retry, so
    // that calls declaring gigabytes each cannot pile up in this node's memory side by side.
    if (this.slot.busy) throw new RpcRefusal(grpc.status.UNAVAILABLE, 'this node is receiving another hand-off');
    this.slot.busy = this.holding = true;
    this.data = [];
  }

  /** The sender says `n` more bytes follow (a frame's header): refused at once if that is more than it declared. */
  announce(n: number): void {
    this.checkMore(this.announced, n);
    this.announced += n;
  }

  /**
   * `movable`: `data` is the caller's own buffer, free to move to another thread at once (the hand-off transport's
   * pieces). grpc-js's message buffers are not: it still reads them after handing the message on, so they move only
   * once the call is over.
   */
  add(data: Uint8Array, movable = false): void {
    const kept = this.checkMore(this.received, data.byteLength);
    // (A copy: `slice` on the Buffer grpc-js gives is a view.)
    const owned = ownsBuffer(data);
    const piece = owned ? data : new Uint8Array(data);
    this.received += data.byteLength;
    if (this.observe?.(piece, movable || !owned) !== true) kept.push(piece);
  }

  end(): Promise<MigrateReply> {
    if (!this.start || !this.data) throw invalid('Migrate without a start message');
    const bytes = this.data;
    this.data = undefined;
    // The slot is held until the handler is done with the bytes (resumed or refused).
    return this.h.migrate(this.start, bytes, this.caller, this.received).finally(() => this.release());
  }

  /** Bytes still to come of what the start message declared (after those added). */
  remaining(): number {
    return (this.start?.totalBytes ?? 0) - this.received;
  }

  /** Whether a start message was taken (and the slot is held) and the data is still coming. */
  receiving(): boolean {
    return this.data !== undefined;
  }

  /** Throws unless `n` bytes more after `have` are within what the start message declared; the data kept so far. */
  private checkMore(have: number, n: number): Uint8Array[] {
    if (!this.start || !this.data) throw invalid('Migrate data before its start message');
    if (have + n > this.start.totalBytes) throw invalid(`Migrate sent more than the ${this.start.totalBytes} bytes it declared`);
    return this.data;
  }

  /** The call is over (refused, or its sender gone): nothing of it stays. */
  drop(): void {
    if (this.data && this.start && this.holding) this.h.migrateDropped?.(this.start);
    this.data = undefined;
    this.release();
  }

  private release(): void {
    if (this.holding) this.slot.busy = this.holding = false;
  }
}

/** A node's one place for a snapshot being received (MigrateIntake). */
export interface ReceiveSlot {
  busy: boolean;
}

/** A Migrate call that sends nothing for this long is ended, freeing the receive slot (a sender stalled or hostile). */
export const MIGRATE_STALL_MS = 20_000;
/** The refusal of a hand-off that sent nothing for MIGRATE_STALL_MS (either transport). */
export const migrateStalled = () => new RpcRefusal(grpc.status.DEADLINE_EXCEEDED, `no snapshot bytes for ${MIGRATE_STALL_MS / 1000} s`);

/** Bytes of a buffer this much longer are the only ones in it worth keeping (the rest: gRPC's and protobuf's framing). */
const FRAMING_SLACK = 64;
const ownsBuffer = (b: Uint8Array) => b.buffer instanceof ArrayBuffer && b.buffer.byteLength - b.byteLength <= FRAMING_SLACK;

const invalid = (why: string) => new RpcRefusal(grpc.status.INVALID_ARGUMENT, why);

/**
 * A Migrate call (MigrateIntake). A call that is refused, or that sends more than it declared, is answered at once
 * and its stream cancelled: nothing more of it is buffered. A sender that vanishes mid-way leaves nothing behind.
 */
function receiveMigrate(
  call: grpc.ServerReadableStream<MigrateChunk, MigrateReply>,
  callback: grpc.sendUnaryData<MigrateReply>,
  h: KafuNodeHandlers,
  slot: ReceiveSlot,
): void {
  const intake = new MigrateIntake(h, callerOf(call), slot);
  let over = false;
  let stall: ReturnType<typeof setTimeout> | undefined;
  const finish = (e: unknown) => {
    if (over) return;
    over = true;
    clearTimeout(stall);
    intake.drop();
    callback(toServiceError(e));
    call.destroy();
  };
  const watch = () => {
    clearTimeout(stall);
    stall = setTimeout(() => finish(migrateStalled()), MIGRATE_STALL_MS);
  };
  watch();
  call.on('data', (chunk: MigrateChunk) => {
    if (over) return;
    watch();
    try {
      if (chunk.start) intake.begin(chunk.start);
      else if (chunk.data) intake.add(chunk.data);
    } catch (e) {
      finish(e);
    }
  });
  call.on('error', () => {
    // The sender gave up or vanished; it will retry the whole transfer.
    over = true;
    clearTimeout(stall);
    intake.drop();
  });
  call.on('end', () => {
    if (over) return;
    over = true;
    clearTimeout(stall);
    let reply: Promise<MigrateReply>;
    try {
      reply = intake.end();
    } catch (e) {
      return finish(e);
    }
    reply.then(
      (r) => callback(null, r),
      (e: unknown) => callback(toServiceError(e)),
    );
  });
}

/** A MigrateWhole call: a Migrate call's start and only data message in one. */
function receiveMigrateWhole(
  call: grpc.ServerUnaryCall<MigrateWholeRequest, MigrateReply>,
  callback: grpc.sendUnaryData<MigrateReply>,
  h: KafuNodeHandlers,
  slot: ReceiveSlot,
): void {
  const intake = new MigrateIntake(h, callerOf(call), slot);
  let reply: Promise<MigrateReply>;
  try {
    const { start, data } = call.request;
    if (!start) throw invalid('Migrate without a start message');
    intake.begin(start);
    intake.add(data);
    reply = intake.end();
  } catch (e) {
    intake.drop();
    return callback(toServiceError(e));
  }
  reply.then(
    (r) => callback(null, r),
    (e: unknown) => callback(toServiceError(e)),
  );
}

/** HTTP/2 flow-control windows for receiving snapshots: the default 64 KiB costs a round trip per 64 KiB. */
const RECEIVE_WINDOW_BYTES = 32 << 20;
/** HTTP/2's largest frame (the default is 16 KiB): fewer frames to parse per snapshot. */
const MAX_FRAME_BYTES = (1 << 24) - 1;

/**
 * Tune a bound server's connections: wide HTTP/2 receive windows and frames for snapshots, and no Nagle delay (grpc-js
 * turns it off for the connections it makes, not for those it accepts: a reply of a few bytes then waits for the
 * ACK of the last one). grpc-js has no server options for these, so this reaches its (private) HTTP/2 servers; if a
 * grpc-js version lacks them, calls are only slower.
 */
export function tuneServerConnections(server: grpc.Server): void {
  const http2Servers = (server as unknown as { http2Servers?: Map<import('node:http2').Http2Server, unknown> }).http2Servers;
  if (!(http2Servers instanceof Map)) return;
  for (const h2 of http2Servers.keys()) {
    h2.on('connection', (socket: import('node:net').Socket) => socket.setNoDelay?.(true));
    h2.on('session', (session: import('node:http2').ServerHttp2Session) => {
      try {
        session.setLocalWindowSize(RECEIVE_WINDOW_BYTES);
        session.settings({ initialWindowSize: RECEIVE_WINDOW_BYTES >> 1, maxFrameSize: MAX_FRAME_BYTES });
      } catch {
        // An old or closing session: keep the defaults.
      }
    });
  }
}

export interface RpcOptions {
  /** Per attempt (ms). */
  deadlineMs: number;
  /**
   * Wait (until the deadline) for a connection that is down or still being made, instead of failing at once:
   * for one-shot calls such as Shutdown that have no retry loop around them.
   */
  waitForReady?: boolean;
}

/**
 * Keepalive pings on every peer connection, idle or not: a relayed blocking socket call has no deadline, and a peer
 * that vanishes silently (power loss, a partition, a stopped process) would otherwise leave it waiting forever. A
 * ping not answered within the timeout closes the connection, which fails its calls (the socket is then reset).
 */
export const KEEPALIVE_CLIENT_OPTIONS = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
} as const;
/** The server side: such pings are welcome (servers that enforce a ping policy would otherwise send GOAWAY). */
export const KEEPALIVE_SERVER_OPTIONS = {
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
} as const;

/** A client for one peer node; each method is one attempt (callers decide about retries). */
export class KafuNodeClient {
  private readonly client: grpc.Client & Record<string, (...a: unknown[]) => unknown>;
  /** Calls not settled yet, and whether to close once there are none (retire). */
  private inFlight = 0;
  private retiring = false;

  /** `nodeId`: the node expected at `target` (with TLS, its certificate must say so). */
  constructor(readonly target: string, nodeId: string, tls: NodeTls | undefined) {
    const Ctor = kafuPackage().KafuNode;
    this.client = new Ctor(target, channelCredentials(tls, nodeId), {
      // TLS: the name to ask for and check is the node id (peers are often reached by IP, which TLS's SNI cannot carry).
      ...(tls ? { 'grpc.ssl_target_name_override': nodeId, 'grpc.default_authority': nodeId } : {}),
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      // Fail fast while a peer is down instead of queueing calls until it comes up; callers retry.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      ...KEEPALIVE_CLIENT_OPTIONS,
    }) as never;
  }

  hello = (req: HelloRequest, o: RpcOptions) => this.call<HelloReply>('Hello', req, o);
  output = (req: OutputRequest, o: RpcOptions) => this.call<Empty>('Output', req, o);
  input = (req: InputRequest, o: RpcOptions) => this.call<InputReply>('Input', req, o);
  heartbeat = (req: HeartbeatRequest, o: RpcOptions) => this.call<HeartbeatReply>('Heartbeat', req, o);
  shutdown = (req: ShutdownRequest, o: RpcOptions) => this.call<Empty>('Shutdown', req, o);
  socket = (req: Partial<SocketRequest>, o: RpcOptions, signal?: AbortSignal) => this.call<SocketReply>('Socket', req, o, signal);

  /**
   * `body`: the snapshot's bytes as data messages (migrate-body.ts; plain MigrateChunks work too). A body of one
   * message goes in a MigrateWhole call; `stream: true` sends it with Migrate all the same.
   */
  migrate(start: MigrateStart, body: Pick<MigrateBody, 'messages'> | { messages: MigrateChunk[] }, o: RpcOptions & { stream?: boolean }): Promise<MigrateReply> {
    const [only, more] = body.messages;
    if (only !== undefined && more === undefined && !o.stream) {
      return this.call<MigrateReply>('MigrateWhole', { start, data: only instanceof Uint8Array ? payloadOf(only) : only.data }, o);
    }
    return this.counted(new Promise((resolve, reject) => {
      const stream = (this.client.Migrate as (md: object, cb: grpc.requestCallback<MigrateReply>) => grpc.ClientWritableStream<MigrateChunk | Uint8Array>)
        .call(this.client, { deadline: Date.now() + o.deadlineMs }, (err: grpc.ServiceError | null, reply?: MigrateReply) =>
          err ? reject(err) : resolve(reply!),
        );
      stream.write({ start });
      if (body.messages[0] instanceof Uint8Array) useHeads(body as Pick<MigrateBody, 'messages'>, 'grpc');
      for (const m of body.messages) stream.write(m);
      stream.end();
    }));
  }

  /** Start connecting (and keep reconnecting with backoff) without waiting for a call. */
  connect(): void {
    this.client.getChannel().getConnectivityState(true);
  }

  close(): void {
    this.client.close();
  }

  /**
   * Close once the calls already made settle: closing a channel cancels the calls queued on it (a waitForReady call
   * waiting out a reconnect backoff, say), which a caller replacing the channel must not do to the others.
   */
  retire(): void {
    this.retiring = true;
    if (this.inFlight === 0) this.client.close();
  }

  private counted<T>(p: Promise<T>): Promise<T> {
    this.inFlight++;
    return p.finally(() => {
      if (--this.inFlight === 0 && this.retiring) this.client.close();
    });
  }

  /**
   * Resolves once the connection is up, within `ms`; else rejects with DEADLINE_EXCEEDED. grpc-js puts no time limit
   * on a TLS handshake, so a call without a deadline to a peer that accepts TCP but never answers (a stopped
   * process, a machine gone silent) would otherwise wait for ever before it even starts.
   */
  ready(ms: number): Promise<void> {
    const channel = this.client.getChannel();
    const deadline = Date.now() + ms;
    const fail = (code: grpc.status, why: string) => Object.assign(new Error(why), { code });
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const state = channel.getConnectivityState(true);
        if (state === grpc.connectivityState.READY) return resolve();
        // Refused outright (nothing listens, the host is down): as a call would fail, at once.
        if (state === grpc.connectivityState.TRANSIENT_FAILURE) return reject(fail(grpc.status.UNAVAILABLE, 'no connection (refused)'));
        channel.watchConnectivityState(state, deadline, (e?: Error) =>
          e ? reject(fail(grpc.status.DEADLINE_EXCEEDED, `no connection within ${Math.round(ms / 1000)} s`)) : check(),
        );
      };
      check();
    });
  }

  /** The last attempt to connect failed and the channel is backing off: a call now would fail at once. */
  backingOff(): boolean {
    return this.client.getChannel().getConnectivityState(false) === grpc.connectivityState.TRANSIENT_FAILURE;
  }

  /** `signal`: cancel the call (it then rejects with CANCELLED). */
  private call<Rep>(method: string, req: object, o: RpcOptions, signal?: AbortSignal): Promise<Rep> {
    return this.counted(new Promise((resolve, reject) => {
      const call = (this.client[method] as (r: object, md: grpc.Metadata, opts: object, cb: grpc.requestCallback<Rep>) => grpc.ClientUnaryCall).call(
        this.client,
        req,
        new grpc.Metadata({ waitForReady: o.waitForReady ?? false }),
        { deadline: Date.now() + o.deadlineMs },
        (err: grpc.ServiceError | null, reply?: Rep) => (err ? reject(err) : resolve(reply!)),
      );
      signal?.addEventListener('abort', () => call.cancel(), { once: true });
    }));
  }
}

/** The status a node answers a snapshot with when it lacks what it is against (the memory image of a delta, a wasi-nn model it lost): send a whole one. */
export const BASELINE_MISSING = grpc.status.NOT_FOUND;

/** Errors worth another attempt: the peer is (still) down, restarting or slow. Refusals are not retried. */
export function isTransient(e: unknown): boolean {
  const code = (e as { code?: number }).code;
  return code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED || code === grpc.status.CANCELLED;
}

export function describeRpcError(e: unknown): string {
  const err = e as { code?: number; details?: string; message?: string };
  if (err.code === grpc.status.UNAVAILABLE) return 'not reachable (no node answering there)';
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return 'no answer in time';
  return err.details || err.message || String(e);
}
