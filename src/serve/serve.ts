// `kafu serve --node-id ID CONFIG`: one node of a Kafu program, in its own process, talking gRPC to the others (and
// handing the program on over a transport of its own: handoff-transport.ts).
//
// The first node of the config coordinates: it waits until every other node answers (same module, same config),
// starts the program, and sends heartbeats (membership.ts). Whichever node the program runs on hands it on at a
// migration point (handoff.ts). The node where the program ends tells all others, and every node exits with the
// program's exit code. This file wires the parts together and runs the node's life from start to exit.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { basename } from 'node:path';
import { UserError } from '../core/errors.js';
import { sha256Hex } from '../core/guest.js';
import type { Logger } from '../core/log.js';
import { requireMetadata } from '../core/metadata.js';
import { RUNTIME_ID, checkPlacement } from '../core/program.js';
import { ChecksumMismatchError, FrameChecksum, type FrameLimits } from '../core/snapshot.js';
import { warmUpHeaderCheck } from '../core/snapshot-header.js';
import { MissingBaselineError, decodeTransfer, maxTransferBytes } from '../core/transfer.js';
import type { NodeConfig } from '../core/config.js';
import { maxMemoryBytes, parseSections } from '../core/wasm-sections.js';
import { TRAP_EXIT_CODE } from '../core/trap.js';
import { loadConfigFile } from '../node/config-file.js';
import { readModule } from '../node/module-source.js';
import { listenProblem } from '../node/local-sockets.js';
import { mountDirs, storageIdentity } from '../node/node-system.js';
import { writeLogLine } from '../node/stderr-line.js';
import { checkPrecopy, PrecopyLink, precopySetup, precopyTarget } from './precopy.js';
import { checkHandOff, depart, dropHandOff, receiveProgram, saveProgram, sendProgram, streamHandOff } from './handoff.js';
import { migrateBody } from './migrate-body.js';
import { saveFolder, savedOutput, type SavedOutput } from './saved-program.js';
import { sendHeartbeats, waitForPeers, watchCoordinator } from './membership.js';
import { setHolder, type NodeContext, type NodeState } from './node-context.js';
import { countedOutput, forwardedOutput, localOutput, outputReceiver } from './output.js';
import { Peers } from './peers.js';
import { forwardedStdin, inputServer, processStdinReader } from './stdin-bridge.js';
import { answerStdin, stdinBuffer } from './stdin-buffer.js';
import { ProgramWorker, type WorkerEvent } from './program-worker.js';
import type { WorkerSetup } from './worker-messages.js';
import type { BrowserBridge } from './browser-bridge.js';
import type { TabProgram } from './tab-program.js';
import { admit, heartbeatAllowed, shutdownAllowed, socketAllowed } from './access.js';
import { NodeSockets } from './sockets.js';
import { HandoffServer } from './handoff-transport.js';
import { listenNode, type NodeListener } from './node-listener.js';
import { PLAINTEXT_WARNING, loadNodeTls, serverCredentials, type NodeTls, type TlsFiles } from './tls.js';
import {
  BASELINE_MISSING,
  KEEPALIVE_SERVER_OPTIONS,
  MAX_MESSAGE_BYTES,
  RpcRefusal,
  addKafuNodeService,
  tuneServerConnections,
  type KafuNodeHandlers,
  type MigrateStart,
  type ReceiveSlot,
  type ShutdownRequest,
} from './protocol.js';

/** Exit code of every node when the cluster fails (a node lost, a migration that cannot be delivered). */
export const CLUSTER_FAILURE_EXIT_CODE = 1;

export interface ServeOptions {
  nodeId: string;
  log: Logger;
  logLevel: string;
  /** Put before each log line (kafu serve --all: the node id). */
  logPrefix?: string;
  /** Host to listen on (default: the node's address when it is an IP, else all interfaces). */
  listen?: string;
  /** How long to wait for a peer that does not answer (startup, migrations, output), in ms. */
  peerTimeoutMs: number;
  /** Test harness, as in singlenode: also migrate to the next node after every N-th WASI call. */
  forceMigrationEvery?: number;
  /** First node: continue the program saved in this file (a hand-off that failed) instead of starting it. */
  resume?: string;
  /** TLS files from the command line, instead of the config's cluster.tls. */
  tlsFiles?: TlsFiles;
  /** Also serve the gRPC health service, alone and in plaintext, on this port (for probes that cannot do mTLS). */
  healthPort?: number;
}

export async function serveNode(configFile: string, o: ServeOptions): Promise<number> {
  const { log, nodeId } = o;
  // grpc-js's own log lines (e.g. a failed bind, said again below as the cause and fix) go to ours, at debug level.
  grpc.setLogger({ error: (...a: unknown[]) => log.debug(`grpc: ${a.join(' ')}`) } as Partial<Console>);
  const loaded = loadConfigFile(configFile);
  const { config } = loaded;
  const ids = config.nodes.map((n) => n.id);
  const me = config.nodes.find((n) => n.id === nodeId);
  if (!me) throw new UserError(`--node-id ${nodeId}: ${configFile} has no such node; its nodes: ${ids.join(', ')}`);
  const first = config.nodes[0]!;
  const coordinator = first.id === nodeId;
  if (o.resume !== undefined && !coordinator) {
    throw new UserError(`--resume: only the first node (${first.id}) resumes a saved program; start ${nodeId} without it`);
  }
  const tls = loadNodeTls(configFile, config.cluster.tls, nodeId, o.tlsFiles);
  if (!tls) log.warn(PLAINTEXT_WARNING);
  else if (tls.notAfter.getTime() - Date.now() < 7 * 86_400_000) {
    log.warn(`this node's certificate expires on ${tls.notAfter.toISOString()}; rotate it with \`kafu certs\``);
  }
  const { bytes, where } = await readModule(loaded);
  const meta = requireMetadata(bytes, where);
  checkPlacement(meta, ids, where);
  const mounts = loaded.mounts;
  const moduleSha256 = await sha256Hex(bytes);
  const limits: FrameLimits = {
    maxMemoryBytes: maxMemoryBytes(parseSections(bytes)),
    maxStateBytes: config.cluster.migration.max_state_mb * 2 ** 20,
  };
  const saved = o.resume === undefined ? undefined : readSaved(o.resume, moduleSha256, limits, ids);
  // This thread checks each arriving header (its worker warms up the rest): zod's first use, once the node is up.
  setImmediate(warmUpHeaderCheck);
  const peers = new Peers(nodeId, config.nodes, log, tls);
  const remoteStdin = forwardedStdin(peers, first.id, o.peerTimeoutMs);

  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  const state: NodeState = {
    where: 'idle',
    started: false,
    heldBaseline: undefined,
    holder: first.id,
    holderKnownAt: 0,
    lastHeartbeat: 0,
    ending: false,
    lastSnapshotId: '',
    resuming: false,
    saveAtNextStop: false,
    recovering: false,
  };
  // The first node's count of what it printed tells a checkpoint's recovery what not to print again.
  const local = countedOutput(localOutput());
  const forwarding = config.app.output === 'first_node';
  // first_node: the program reads the first node's stdin wherever it runs.
  const stdinShared = forwarding ? stdinBuffer() : undefined;
  const stdin = processStdinReader();
  const serveInput = inputServer(stdin);
  let eventWaiter: ((e: WorkerEvent) => void) | undefined;
  const sockets = new NodeSockets(nodeId, config.app.listen, peers, log, o.peerTimeoutMs);

  const workerSetup: WorkerSetup = {
    node: nodeId,
    moduleBytes: bytes,
    where,
    args: config.app.args,
    env: Object.entries(config.app.env).map(([k, v]) => `${k}=${v}`),
    mounts,
    nn: loaded.nn,
    transfer: {
      delta: config.cluster.migration.memory_migration === 'delta',
      compression: config.cluster.migration.memory_compression,
      limits,
    },
    forced: o.forceMigrationEvery ? { every: o.forceMigrationEvery, nodes: ids } : undefined,
    logLevel: o.logLevel,
    logPrefix: o.logPrefix ?? '',
    stdin: stdinShared,
    sockets: sockets.workerEnd,
  };
  const precopyTo = me.browser ? undefined : precopyTarget(config, meta, nodeId, o.forceMigrationEvery !== undefined && o.forceMigrationEvery > 0);
  const precopy = precopyTo === undefined ? undefined : new PrecopyLink(() => ctx, precopySetup(config, precopyTo));
  workerSetup.precopy = precopy?.setup;
  const onWorkerEvent = (e: WorkerEvent): void => {
    if (e.type === 'output') ctx.output.write(e.fd, e.data);
    else if (e.type === 'log') writeLogLine(e.line);
    else if (e.type === 'stdin') void readStdin(e.maxBytes).then((b) => answerStdin(stdinShared!, b));
    else if (e.type === 'precopyRound') precopy?.send(e);
    else if (e.type === 'precopyWake') precopy?.wake(e.inMs);
    else {
      const waiter = eventWaiter;
      eventWaiter = undefined;
      waiter?.(e);
      if (e.type === 'refused') state.heldBaseline = e.baselineId;
      if (e.type === 'precopied') state.heldBaseline = e.imageId;
      if (e.type === 'refused' && e.checkpointLost && state.checkpoint) {
        state.checkpoint = undefined;
        log.warn('a refused hand-off was partly restored into the instance that held the checkpoint of the last hop: that checkpoint is dropped');
      }
      // A refused hand-off is the Migrate call's business (an error back to its sender), not the run's.
      if ((e.type === 'refused' || e.type === 'precopied') && waiter) return;
      void onProgramEvent(e);
    }
  };
  // A browser node's folders are its tab's, in memory: no other node shares them.
  const browser = me.browser;
  const hostDirs = browser ? [] : mountDirs(mounts, nodeId, (m) => log.warn(m));
  const listenHost = o.listen ?? (isIP(me.address) ? me.address : '0.0.0.0');
  let bridge: BrowserBridge | undefined;
  let pageUrl = '';
  const browserParts = browser ? await loadBrowserParts() : undefined;
  const ctx: NodeContext = {
    nodeId,
    configFile,
    // Never inside a folder the program sees (preopened_dir: . is the config's folder).
    saveDir: saveFolder(configFile, hostDirs),
    config,
    first,
    coordinator,
    moduleSha256,
    limits,
    storage: browser
      ? Object.fromEntries(mounts.map((m) => [m.guest, `browser:${nodeId}:${randomUUID()}`]))
      : Object.fromEntries(hostDirs.map((dir, i) => [mounts[i]!.guest, storageIdentity(dir)])),
    peers,
    tls,
    log,
    peerTimeoutMs: o.peerTimeoutMs,
    local,
    output:
      forwarding && !coordinator
        ? forwardedOutput(peers, first.id, {
            timeoutMs: o.peerTimeoutMs,
            // Kept, not dropped: it travels with the program, into a saved file, or is printed here at the end.
            onLost: (e) => log.warn(`program output cannot reach the first node: ${e.message}; this node keeps it`),
          })
        : local,
    worker: browser && browserParts ? browserNode(browser, browserParts) : new ProgramWorker(workerSetup, onWorkerEvent, { streamBodies: true }),
    sockets,
    state,
    precopy,
    onNextProgramEvent: (onResumed) =>
      new Promise((r) => {
        eventWaiter = (e) => {
          if (e.type === 'resumed') onResumed?.();
          r(e);
        };
      }),
    fail,
    stop,
    holderLost,
    coordinatorLost,
  };

  /** A browser node: its program runs in the tab the bridge connects (tab-program.ts, browser-bridge.ts). */
  function browserNode(b: NonNullable<NodeConfig['browser']>, { TabProgram, BrowserBridge }: BrowserParts): TabProgram {
    const compression = config.cluster.migration.memory_compression;
    const tab = new TabProgram({
      node: nodeId,
      nodes: ids,
      setup: {
        type: 'setup',
        node: nodeId,
        programName: basename(where),
        args: workerSetup.args,
        env: workerSetup.env,
        mounts: mounts.map((m) => ({ guest: m.guest, host: '', mode: m.mode })),
        compression,
        delta: workerSetup.transfer.delta,
        limits,
        forced: workerSetup.forced,
        debug: o.logLevel === 'debug',
      },
      moduleBytes: bytes,
      moduleSha256,
      limits,
      compression,
      tabWaitMs: b.tab_wait_s * 1000,
      url: () => pageUrl,
      log,
      onEvent: onWorkerEvent,
      onLost: tabLost,
    });
    bridge = new BrowserBridge({
      node: nodeId,
      listenHost,
      address: me!.address,
      port: b.port,
      maxFrameBytes: maxTransferBytes(limits),
      log,
      onTab: (ws) => tab.connect(ws),
    });
    return tab;
  }

  /**
   * The browser node's tab went away while the program ran in it: the program is gone from this node, as from a
   * node that died. The first node sees this node idle, and continues from its checkpoint (cluster.checkpoint: hops)
   * or ends the run (README "When a node dies").
   */
  function tabLost(why: string): void {
    if (state.where !== 'running' || state.ending) return;
    state.where = 'idle';
    log.warn(`browser node ${nodeId}: ${why} while the program ran there: the program is gone from this node`);
  }

  async function onProgramEvent(e: WorkerEvent): Promise<void> {
    switch (e.type) {
      case 'resumed':
        state.heldBaseline = e.baselineId;
        log.debug(`program resumed on ${nodeId}, downtime ${e.downtimeMs.toFixed(1)} ms`);
        return;
      case 'suspended':
        if (state.saveAtNextStop) return saveAndStop();
        return depart(ctx, e.migration, e.suspendedAtMs, e.encoded).catch((err: Error) => fail(err.message));
      case 'exited':
        return programEnded(e.code, `Program finished on ${nodeId} (exit code ${e.code})`);
      case 'trapped':
        log.error(`Program trapped on ${nodeId}: ${e.message}`);
        for (const frame of e.frames) log.error(`    at ${frame}`);
        return programEnded(TRAP_EXIT_CODE, `Program trapped on ${nodeId}`);
      case 'failed':
        return fail(e.user ? e.message : `internal error: ${e.message}`);
      case 'refused': // a program saved in a file (--resume) that cannot be resumed here
        return fail(`the program cannot be resumed: ${e.message}`);
    }
  }

  /**
   * First node: node `lost`, which holds the program, stopped answering (or came back without it). With a checkpoint
   * (cluster.checkpoint: hops, this node handed the program on last), the run continues from it: handed again to that
   * node once it answers (restarted), within --peer-timeout; what the program prints again of what was printed here
   * is left out. Otherwise, or when it does not come back, the checkpoint is saved to a file. Without one, the run ends.
   */
  async function holderLost(lost: string): Promise<void> {
    const cp = state.checkpoint;
    const gone = `node ${lost}, where the program was running, stopped answering`;
    if (state.recovering || state.ending) return;
    if (!cp || cp.to !== lost) {
      const why = config.cluster.checkpoint === 'hops' ? ' (no node kept a checkpoint of it)' : ' (cluster.checkpoint is off)';
      return fail(`${gone}; the program is lost${why}`);
    }
    state.recovering = true;
    const skip = Math.max(0, local.printed() - cp.printed);
    log.warn(`${gone}; continuing from the checkpoint of ${new Date(cp.atMs).toISOString()} (the hop to ${lost}): its work since then is done again`);
    try {
      const encoded = await ctx.worker.encodeFull();
      // Its listeners are open again under new handles (the checkpoint holds the old ones): learned before it arrives.
      const hello = await peers.retry(lost, 'waiting for it to come back', { timeoutMs: o.peerTimeoutMs, attemptMs: 2000 }, (c, deadlineMs) =>
        c.hello({ from: nodeId, listeners: sockets.ownListeners() }, { deadlineMs }),
      );
      sockets.learn(lost, hello.listeners);
      local.skipNext(skip);
      setHolder(state, lost);
      await sendProgram(ctx, lost, 'continuing from the checkpoint', Date.now(), encoded, []);
      log.info(`Program continues on ${lost} from the checkpoint (${skip} bytes of its output printed already are not printed again)`);
    } catch (e) {
      local.skipNext(0);
      const message = (e as Error).message;
      if (/not idle \(the program is here\)/.test(message)) {
        log.warn(`node ${lost} still runs the program: the checkpoint is not used`);
        return;
      }
      const err = await saveProgram(ctx, `${message}; the program as of the checkpoint`, [], skip);
      return fail(`${err.message} (if node ${lost} is in fact still running it, cut off from this node, do not resume this file)`);
    } finally {
      state.recovering = false;
    }
  }

  /**
   * The first node is gone and this node, without the program, stops. If the program was on the first node as far as
   * this node knows and it kept the checkpoint of handing it there, the checkpoint is saved first (the first node's
   * count of printed output died with it: what it printed since the checkpoint is printed again on resuming).
   */
  async function coordinatorLost(why: string): Promise<void> {
    const cp = state.checkpoint;
    if (!cp || cp.to !== first.id || state.holder !== first.id || state.ending) return stop(why);
    state.ending = true; // nothing else starts meanwhile
    const err = await saveProgram(ctx, `${why}; it held the program: this node kept it as of ${new Date(cp.atMs).toISOString()}`, []);
    state.ending = false;
    stop(err.message);
  }

  /** A saved program's output: what no node delivered first, then what it prints again of what was printed is left out. */
  function printSaved(output: SavedOutput): void {
    for (const c of output.chunks) local.write(c.fd === 2 ? 2 : 1, c.data);
    local.skipNext(output.skip);
  }

  /** The first node's stdin: this process's, or asked of the first node (a failure there ends the run). */
  async function readStdin(maxBytes: number): Promise<Uint8Array | null> {
    if (coordinator) return stdin.read(maxBytes);
    try {
      return await remoteStdin.read(maxBytes);
    } catch (e) {
      void fail((e as Error).message);
      return null;
    }
  }

  /** The first node is lost and this node must stop: the program, stopped at a migration point, goes to a file. */
  async function saveAndStop(): Promise<void> {
    state.where = 'departing';
    const err = await saveProgram(ctx, `lost the first node ${first.id}`, await ctx.output.takePending());
    state.where = 'idle';
    stop(err.message);
  }

  async function programEnded(code: number, message: string): Promise<void> {
    if (state.ending) return;
    state.ending = true;
    state.where = 'idle';
    await ctx.output.drain().catch(() => undefined);
    if (ctx.output.lost?.()) {
      // The program finished here without the first node: what it could not deliver is printed here, not dropped.
      const rest = await ctx.output.takePending();
      if (rest.length > 0) log.warn(`the first node cannot be reached: the program's last ${rest.reduce((n, c) => n + c.data.byteLength, 0)} bytes of output are printed here`);
      for (const c of rest) local.write(c.fd === 2 ? 2 : 1, c.data);
      await local.drain();
    }
    log.info(message);
    await tellEveryone({ from: nodeId, reason: message, exitCode: code, programFinished: true });
    finish(code);
  }

  async function fail(why: string, code = CLUSTER_FAILURE_EXIT_CODE): Promise<void> {
    if (state.ending) return;
    state.ending = true;
    log.error(why);
    await tellEveryone({ from: nodeId, reason: `${nodeId}: ${why}`, exitCode: code, programFinished: false });
    finish(code);
  }

  function stop(why: string, code = CLUSTER_FAILURE_EXIT_CODE): void {
    if (state.ending) return;
    state.ending = true;
    log.error(why);
    finish(code);
  }

  /** Best effort: a node that is already gone does not delay the others. */
  async function tellEveryone(req: ShutdownRequest, except?: string): Promise<void> {
    await Promise.all(
      peers.others().filter((n) => n.id !== except).map((n) =>
        peers.client(n.id).shutdown(req, { deadlineMs: 3000, waitForReady: true }).catch((e: unknown) => {
          log.debug(`could not tell ${n.id} to shut down: ${(e as Error).message}`);
        }),
      ),
    );
  }

  /** A hand-off this node refuses is logged here as well as answered (a missing baseline is routine, not a warning). */
  function warnRefusal<T>(start: MigrateStart, f: () => T): T {
    const warn = (e: unknown) => {
      if (e instanceof RpcRefusal && e.code !== BASELINE_MISSING) log.warn(`refused ${start.precopy ? 'a pre-copy round' : 'a hand-off'} from ${start.from}: ${e.message}`);
      throw e;
    };
    try {
      const r = f();
      return (r instanceof Promise ? r.catch(warn) : r) as T;
    } catch (e) {
      return warn(e);
    }
  }

  /** The checksum of each Migrate call's bytes (by its start message) as they arrive. */
  const checksums = new WeakMap<MigrateStart, FrameChecksum>();
  const receiveOutput = outputReceiver(local);
  // Every handler first admits the caller (access.ts): a node of this cluster, speaking for itself.
  const handlers: KafuNodeHandlers = {
    hello: async (req, proven) => {
      const caller = admit(ctx, req.from, proven);
      if (caller === first.id) state.lastHeartbeat = Date.now();
      // The first node's listeners, for a program that arrives here holding older handles (sockets.ts).
      if (caller === first.id && !coordinator) sockets.learn(caller, req.listeners ?? []);
      // Listener handles are capabilities: only the first node, which gives them to the program, is told them.
      const listeners = caller === first.id ? sockets.ownListeners() : [];
      return { nodeId, configName: config.name, moduleSha256: ctx.moduleSha256, storage: ctx.storage, runtime: RUNTIME_ID, listeners };
    },
    migrateStart: (start, proven) => {
      const kind = warnRefusal(start, () => {
        admit(ctx, start.from, proven);
        return start.precopy ? checkPrecopy(ctx, start) : checkHandOff(ctx, start);
      });
      // Checked as the bytes arrive, so that it costs no time once the last one is here.
      const sum = new FrameChecksum();
      checksums.set(start, sum);
      // A hand-off taken here goes to the worker as it arrives (a retried one that already runs here does not).
      const stream = kind === 'new' ? streamHandOff(ctx, start) : undefined;
      // (Only pieces free to move at once go as they arrive: those of the hand-off transport. A gRPC call's stay here
      // until its end, as grpc-js still reads its message buffers: kept pieces then go to the worker together.)
      let streaming: boolean | undefined;
      return (data, movable) => {
        sum.update(data);
        streaming ??= stream !== undefined && movable;
        // (A piece grpc-js still reads, in a call whose first piece was free to move, goes as a copy.)
        return streaming ? stream!(movable ? data : data.slice()) : false;
      };
    },
    migrateDropped: (start) => dropHandOff(ctx, start),
    migrate: async (start, data, proven, received) => {
      admit(ctx, start.from, proven);
      const reply = await warnRefusal(start, () => receiveProgram(ctx, start, data, received, checksums.get(start)));
      if (!coordinator) state.lastHeartbeat = Date.now(); // the first node was alive when the program started
      return reply;
    },
    input: async (req, proven) => {
      admit(ctx, req.from, proven);
      if (!coordinator || !forwarding) throw new RpcRefusal(grpc.status.FAILED_PRECONDITION, `node ${nodeId} does not serve stdin`);
      return serveInput(req);
    },
    output: async (req, proven) => {
      admit(ctx, req.from, proven);
      if (!coordinator) throw new RpcRefusal(grpc.status.FAILED_PRECONDITION, `node ${nodeId} is not the first node`);
      await receiveOutput(req);
      return {};
    },
    heartbeat: async (req, proven) => {
      const caller = admit(ctx, req.from, proven);
      heartbeatAllowed(ctx, caller);
      state.lastHeartbeat = Date.now();
      // Resuming counts: the first node must not take a node that is taking the program over for one without it.
      return { running: state.where !== 'idle' || state.resuming };
    },
    socket: async (req, proven, cancelled) => {
      const caller = admit(ctx, req.from, proven);
      socketAllowed(ctx, caller);
      return sockets.serveRemote(req, cancelled);
    },
    shutdown: async (req, proven) => {
      const caller = admit(ctx, req.from, proven);
      shutdownAllowed(ctx, caller, req.programFinished);
      if (!state.ending) {
        state.ending = true;
        if (req.programFinished) log.info(req.reason);
        else log.error(`stopping: ${req.reason}`);
        // Pass the end on (access.ts: nodes that do not know the program reached `caller` believe this node), then
        // stop — after replying.
        const relay = req.programFinished ? tellEveryone({ ...req, from: nodeId }, caller) : Promise.resolve();
        setImmediate(() => void relay.finally(() => finish(req.exitCode)));
      }
      return {};
    },
  };

  // Stopping one node (Ctrl-C, a pod deleted) stops the program everywhere, with the signal's usual exit code.
  const onSignal = (signal: NodeJS.Signals) => void fail(`stopped by ${signal}`, signal === 'SIGINT' ? 130 : 143);
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, ...KEEPALIVE_SERVER_OPTIONS });
  // One snapshot is received at a time, whichever transport brings it (protocol.ts MigrateIntake).
  const receiveSlot: ReceiveSlot = { busy: false };
  const healthService = new HealthImplementation({ '': 'SERVING', 'kafu.v1.KafuNode': 'SERVING' });
  const stops: (() => void)[] = [];
  let listener: NodeListener | undefined;
  try {
    addKafuNodeService(server, handlers, receiveSlot);
    healthService.addToServer(server);
    await sockets.start();
    listener = await listenOn(server, handlers, receiveSlot, listenHost, me.port, nodeId, tls);
    if (bridge) {
      pageUrl = await bridge.listen();
      log.info(`Browser node ${nodeId}: open ${pageUrl} in a browser (one tab at a time is this node)`);
    }
    if (o.healthPort !== undefined) {
      const health = new grpc.Server();
      healthService.addToServer(health);
      stops.push(() => health.forceShutdown());
      await bind(health, listenHost, o.healthPort, nodeId, undefined);
    }
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    peers.connectAll();
    log.info(`Node ${nodeId} listening on ${listenHost}:${me.port}${coordinator ? ' (first node: starts the program)' : ''}`);
    if (coordinator) {
      void waitForPeers(ctx)
        .then(async (storage) => {
          if (state.ending) return;
          state.started = true;
          stops.push(sendHeartbeats(ctx));
          if (!saved) {
            log.info(`Program is starting on ${nodeId}`);
            state.where = 'running';
            ctx.worker.start(storage, sockets.listeners());
          } else if (saved.node === nodeId) {
            log.info(`Program is resuming on ${nodeId} from ${o.resume}`);
            state.where = 'running';
            printSaved(saved.output);
            ctx.worker.resume(saved.bytes, Date.now());
          } else {
            log.info(`Program is resuming on ${saved.node} from ${o.resume}`);
            setHolder(state, saved.node);
            printSaved(saved.output);
            await sendProgram(ctx, saved.node, `resuming from ${o.resume}`, Date.now(), { body: migrateBody([saved.bytes]), snapshotId: saved.snapshotId }, []);
          }
        })
        .catch((e: Error) => fail(e.message));
    } else {
      stops.push(watchCoordinator(ctx));
    }
    return await finished;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const stop of stops) stop();
    await ctx.worker.stop();
    bridge?.close();
    await sockets.close();
    stdin.close();
    peers.close();
    listener?.close();
    server.forceShutdown();
  }
}

/** A program saved by a failed hand-off: checked whole (checksum, format, limits, module) before anything starts. */
function readSaved(
  file: string,
  moduleSha256: string,
  limits: FrameLimits,
  nodeIds: string[],
): { bytes: Uint8Array; node: string; snapshotId: string; output: SavedOutput } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UserError(`--resume: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let decoded;
  try {
    decoded = decodeTransfer(bytes, () => undefined, limits);
  } catch (e) {
    if (e instanceof ChecksumMismatchError) throw new UserError(`--resume: ${file}: checksum mismatch: the file is damaged`);
    if (e instanceof MissingBaselineError) throw new UserError(`--resume: ${file} is a delta, not a whole snapshot`);
    throw new UserError(`--resume: ${file}: ${(e as Error).message}`);
  }
  const { header } = decoded.snapshot;
  if (header.moduleSha256 !== moduleSha256) {
    throw new UserError(
      `--resume: ${file} holds a program of module ${header.moduleSha256.slice(0, 12)}…, the config's module is ${moduleSha256.slice(0, 12)}…`,
    );
  }
  if (!nodeIds.includes(header.node)) {
    throw new UserError(
      `--resume: ${file} holds a program stopped for node ${header.node}, which the config does not have ` +
        `(nodes: ${nodeIds.join(', ')}); resume it with the config it ran under`,
    );
  }
  let output: SavedOutput;
  try {
    const o = savedOutput(decoded.snapshot);
    output = { chunks: o.chunks.map((c) => ({ fd: c.fd, data: c.data.slice() })), skip: o.skip };
  } catch (e) {
    throw new UserError(`--resume: ${file}: ${(e as Error).message}`);
  }
  return { bytes: new Uint8Array(bytes), node: header.node, snapshotId: decoded.baseline.id, output };
}

/**
 * The node's port (node-listener.ts): gRPC (`server`, its handlers added) and the direct hand-off transport, both
 * served by `handlers` with the node's one receive slot.
 */
async function listenOn(
  server: grpc.Server,
  handlers: KafuNodeHandlers,
  slot: ReceiveSlot,
  host: string,
  port: number,
  nodeId: string,
  tls: NodeTls | undefined,
): Promise<NodeListener> {
  try {
    const handoffs = new HandoffServer(handlers, slot);
    const l = await listenNode({ host, port, tls, grpcServer: server, onHandoff: (socket, caller) => handoffs.accept(socket, caller) });
    tuneServerConnections(server);
    return l;
  } catch (e) {
    const fix = { port: `change nodes.${nodeId}.port`, address: 'listen on all interfaces with --listen 0.0.0.0' };
    const target = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
    const err = e as NodeJS.ErrnoException;
    throw new UserError(`node ${nodeId}: cannot listen on ${target}: ${listenProblem(err.code ?? err.message, fix)}`);
  }
}

function bind(server: grpc.Server, host: string, port: number, nodeId: string, tls: NodeTls | undefined): Promise<void> {
  const target = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(target, serverCredentials(tls), (err) => {
      // grpc-js's bind error ("No address added out of total 1 resolved errors: [listen EADDRINUSE …]") as the cause and fix.
      const fix = { port: `change nodes.${nodeId}.port`, address: 'listen on all interfaces with --listen 0.0.0.0' };
      if (err) reject(new UserError(`node ${nodeId}: cannot listen on ${target}: ${listenProblem(err.message, fix)}`));
      else {
        tuneServerConnections(server);
        resolve();
      }
    });
  });
}

type BrowserParts = Awaited<ReturnType<typeof loadBrowserParts>>;
/** Loaded only for a browser node: the bridge's WebSocket server (ws) costs every other node's start for nothing. */
async function loadBrowserParts(): Promise<{ TabProgram: typeof TabProgram; BrowserBridge: typeof BrowserBridge }> {
  const [{ TabProgram }, { BrowserBridge }] = await Promise.all([import('./tab-program.js'), import('./browser-bridge.js')]);
  return { TabProgram, BrowserBridge };
}
