// `kafu serve --node-id ID CONFIG`: one node of a Kafu program, in its own process, talking gRPC to the others.
//
// The first node of the config coordinates: it waits until every other node answers (same module, same config),
// starts the program, and sends heartbeats. Whichever node the program runs on hands it on at a migration point:
// it asks the destination whether it holds the last hop's memory (then only changed pages travel), streams the
// snapshot, and waits until the program runs again there. The node where the program ends tells all others, and
// every node exits with the program's exit code.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { isIP } from 'node:net';
import type { NodeConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { sha256Hex } from '../core/guest.js';
import type { Logger } from '../core/log.js';
import { requireMetadata } from '../core/metadata.js';
import type { Migration } from '../core/migration-stack.js';
import { RUNTIME_ID, checkPlacement, describeMigration } from '../core/program.js';
import { transferBaselineId } from '../core/transfer.js';
import { TRAP_EXIT_CODE } from '../core/trap.js';
import { concat } from '../core/wasm-sections.js';
import { loadConfigFile } from '../node/config-file.js';
import { readModule } from '../node/module-source.js';
import { mountDirs, storageIdentity, type StorageIds } from '../node/node-system.js';
import { forwardedOutput, localOutput, outputReceiver, type OutputSink } from './output.js';
import { Peers } from './peers.js';
import { ProgramWorker, type WorkerEvent } from './program-worker.js';
import type { Encoded } from './worker-messages.js';
import { BASELINE_MISSING, BaselineMissing, RpcRefusal, addKafuNodeService, describeRpcError, type HelloReply, type KafuNodeHandlers, type MigrateReply, type MigrateStart } from './protocol.js';

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
}

type Where = 'idle' | 'running' | 'departing';

export async function serveNode(configFile: string, o: ServeOptions): Promise<number> {
  const { log, nodeId } = o;
  const loaded = loadConfigFile(configFile);
  const { config } = loaded;
  const ids = config.nodes.map((n) => n.id);
  const me = config.nodes.find((n) => n.id === nodeId);
  if (!me) throw new UserError(`--node-id ${nodeId}: ${configFile} has no such node; its nodes: ${ids.join(', ')}`);
  const first = config.nodes[0]!;
  const coordinator = first.id === nodeId;
  const { bytes, where } = await readModule(loaded);
  checkPlacement(requireMetadata(bytes, where), ids, where);
  const moduleSha256 = await sha256Hex(bytes);
  const mounts = loaded.mounts;
  const myStorage = Object.fromEntries(mountDirs(mounts, nodeId).map((dir, i) => [mounts[i]!.guest, storageIdentity(dir)]));
  const peers = new Peers(nodeId, config.nodes, log);
  const heartbeat = config.cluster.heartbeat;
  /** A peer silent this long is taken as gone. */
  const lossAfterMs = heartbeat.interval_ms * 5 + 2000;

  let where_: Where = 'idle';
  let started = false;
  /** The memory baseline this node holds (the last hop's image), for delta migrations. */
  let heldBaseline: string | undefined;
  /** Where the program is, as far as the coordinator knows (heartbeat replies, its own hand-offs). */
  let holder = first.id;
  /** Coordinator: since when each unreachable node has not answered a heartbeat. */
  const lostSince = new Map<string, number>();
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  let ending = false;

  const local = localOutput();
  const output: OutputSink =
    config.app.output === 'first_node' && !coordinator
      ? forwardedOutput(peers, first.id, {
          timeoutMs: o.peerTimeoutMs,
          log,
          onLost: (e) => void fail(`program output cannot reach the first node: ${e.message}`),
        })
      : local;

  // --- the program's worker ---------------------------------------------------------------------------------
  let resumedWaiter: ((e: WorkerEvent) => void) | undefined;
  const worker = new ProgramWorker(
    {
      node: nodeId,
      moduleBytes: bytes,
      where,
      args: config.app.args,
      env: Object.entries(config.app.env).map(([k, v]) => `${k}=${v}`),
      mounts,
      transfer: {
        delta: config.cluster.migration.memory_migration === 'delta',
        compression: config.cluster.migration.memory_compression,
      },
      forced: o.forceMigrationEvery ? { every: o.forceMigrationEvery, nodes: ids } : undefined,
      logLevel: o.logLevel,
      logPrefix: o.logPrefix ?? '',
    },
    (e) => {
      if (e.type === 'output') output.write(e.fd, e.data);
      else if (e.type === 'log') process.stderr.write(e.line);
      else {
        // The first event after a resume settles the Migrate call that delivered the program.
        const waiter = resumedWaiter;
        resumedWaiter = undefined;
        waiter?.(e);
        void onProgramEvent(e);
      }
    },
  );

  async function onProgramEvent(e: WorkerEvent): Promise<void> {
    switch (e.type) {
      case 'resumed':
        heldBaseline = e.baselineId;
        log.debug(`program resumed on ${nodeId}, downtime ${e.downtimeMs.toFixed(1)} ms`);
        return;
      case 'suspended':
        return depart(e.migration, e.suspendedAtMs, e.encoded).catch((err: Error) => fail(err.message));
      case 'exited':
        return programEnded(e.code, `Program finished on ${nodeId} (exit code ${e.code})`);
      case 'trapped':
        log.error(`Program trapped on ${nodeId}: ${e.message}`);
        for (const frame of e.frames) log.error(`    at ${frame}`);
        return programEnded(TRAP_EXIT_CODE, `Program trapped on ${nodeId}`);
      case 'failed':
        return fail(e.user ? e.message : `internal error: ${e.message}`);
    }
  }

  async function depart(m: Migration, suspendedAtMs: number, first: Encoded): Promise<void> {
    where_ = 'departing';
    log.info(describeMigration(m));
    const t0 = performance.now();
    // Output the program printed here travels ahead of it: the destination delivers it before resuming.
    const pendingOutput = await output.takePending();
    let encoded = first;
    // Held from now on: the program may come back (as a delta against it) before this hop's reply arrives.
    heldBaseline = encoded.baselineId;
    const send = () => {
      const start: MigrateStart = {
        from: nodeId,
        to: m.to,
        moduleSha256,
        reason: describeMigration(m),
        suspendedAtMs,
        totalBytes: encoded.bytes.byteLength,
        snapshotId: encoded.snapshotId,
        output: pendingOutput,
      };
      return peers.retry(
        m.to,
        `migrating the program to ${m.to}`,
        {
          timeoutMs: o.peerTimeoutMs,
          attemptMs: 30_000 + encoded.bytes.byteLength / 10_000, // ≥ 10 MB/s
          onFirstFailure: (why) => log.warn(`node ${m.to} is ${why}; waiting for it`),
        },
        (c, deadlineMs) => c.migrate(start, [encoded.bytes], { deadlineMs }),
      );
    };
    let reply: MigrateReply;
    try {
      reply = await send();
    } catch (e) {
      if (!(e instanceof BaselineMissing)) {
        for (const c of pendingOutput) local.write(c.fd === 2 ? 2 : 1, c.data); // not lost, at least
        throw e;
      }
      log.debug(`${m.to} does not hold this node's last memory image; sending the whole snapshot`);
      encoded = await worker.encodeFull();
      heldBaseline = encoded.baselineId;
      reply = await send();
    }
    if (where_ === 'departing') {
      // (Unless the program already came back while the reply travelled: then it runs here again.)
      where_ = 'idle';
      holder = m.to;
    }
    const { stats } = encoded;
    log.debug(`hand-off to ${m.to}: encode ${stats.encodeMs.toFixed(1)} ms, transfer and resume ${(performance.now() - t0).toFixed(1)} ms`);
    const kind = encoded.delta ? `delta: ${stats.pagesSent} pages changed` : `${stats.pagesSent} pages`;
    log.info(
      `Program moved to ${m.to}: ${formatBytes(stats.sentBytes)} sent (${kind}` +
        `${config.cluster.migration.memory_compression ? ', compressed' : ''}), downtime ${reply.downtimeMs.toFixed(1)} ms`,
    );
  }

  async function programEnded(code: number, message: string): Promise<void> {
    if (ending) return;
    ending = true;
    where_ = 'idle';
    await output.drain().catch(() => undefined);
    log.info(message);
    await tellEveryone({ reason: message, exitCode: code, programFinished: true });
    finish(code);
  }

  async function fail(why: string, code = CLUSTER_FAILURE_EXIT_CODE): Promise<void> {
    if (ending) return;
    ending = true;
    log.error(why);
    await tellEveryone({ reason: `${nodeId}: ${why}`, exitCode: code, programFinished: false });
    finish(code);
  }

  // Stopping one node (Ctrl-C, a pod deleted) stops the program everywhere, with the signal's usual exit code.
  const onSignal = (signal: NodeJS.Signals) => void fail(`stopped by ${signal}`, signal === 'SIGINT' ? 130 : 143);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  /** Best effort: a node that is already gone does not delay the others. */
  async function tellEveryone(req: { reason: string; exitCode: number; programFinished: boolean }): Promise<void> {
    await Promise.all(
      peers.others().map((n) =>
        peers.client(n.id).shutdown({ from: nodeId, ...req }, { deadlineMs: 3000 }).catch((e: unknown) => {
          log.debug(`could not tell ${n.id} to shut down: ${(e as Error).message}`);
        }),
      ),
    );
  }

  // --- what this node answers --------------------------------------------------------------------------------
  let lastHeartbeat = 0;
  const receiveOutput = outputReceiver(local);
  let lastSnapshotId = '';
  const helloReply = (): HelloReply => ({ nodeId, configName: config.name, moduleSha256, storage: myStorage, runtime: RUNTIME_ID });

  async function receiveProgram(start: MigrateStart, data: Uint8Array[]): Promise<MigrateReply> {
    if (start.to !== nodeId) throw new RpcRefusal(grpc.status.FAILED_PRECONDITION, `this is node ${nodeId}, not ${start.to}`);
    if (start.moduleSha256 !== moduleSha256) {
      throw new RpcRefusal(
        grpc.status.FAILED_PRECONDITION,
        `node ${nodeId} runs module ${moduleSha256.slice(0, 12)}…, the snapshot is of ${start.moduleSha256.slice(0, 12)}…`,
      );
    }
    // A sender that lost our reply retries: the program is already here, that is success.
    if (start.snapshotId === lastSnapshotId && where_ !== 'idle') return { downtimeMs: 0 };
    // 'departing' too: our own hand-off's reply may still be on its way when the program comes back.
    if (where_ === 'running' || ending) {
      throw new RpcRefusal(grpc.status.FAILED_PRECONDITION, `node ${nodeId} is not idle (${ending ? 'shutting down' : 'the program is here'})`);
    }
    const received = data.reduce((n, c) => n + c.byteLength, 0);
    if (received !== start.totalBytes) {
      throw new RpcRefusal(grpc.status.DATA_LOSS, `received ${received} of ${start.totalBytes} snapshot bytes`);
    }
    // One buffer of our own (received chunks may be slices of pooled buffers), so it can move to the worker.
    const bytes = concat(data);
    const needs = transferBaselineId(bytes);
    if (needs !== undefined && needs !== heldBaseline) throw new RpcRefusal(BASELINE_MISSING, `no memory baseline ${needs}`);
    for (const c of start.output) output.write(c.fd === 2 ? 2 : 1, c.data);
    where_ = 'running';
    started = true;
    holder = nodeId;
    lastSnapshotId = start.snapshotId;
    const outcome = new Promise<WorkerEvent>((r) => (resumedWaiter = r));
    worker.resume(bytes, start.suspendedAtMs);
    const e = await outcome;
    if (e.type === 'failed') {
      where_ = 'idle';
      throw new RpcRefusal(grpc.status.FAILED_PRECONDITION, `node ${nodeId} could not resume the program: ${e.message}`);
    }
    return { downtimeMs: e.type === 'resumed' ? e.downtimeMs : 0 };
  }

  const handlers: KafuNodeHandlers = {
    hello: async (req): Promise<HelloReply> => {
      if (req.from === first.id) lastHeartbeat = Date.now();
      return helloReply();
    },
    migrate: async (start, data) => {
      if (!coordinator) lastHeartbeat = Date.now(); // the coordinator was alive when the program started
      return receiveProgram(start, data);
    },
    output: async (req) => {
      if (!coordinator) throw new RpcRefusal(grpc.status.FAILED_PRECONDITION, `node ${nodeId} is not the first node`);
      await receiveOutput(req);
      return {};
    },
    heartbeat: async (req) => {
      if (req.from === first.id) lastHeartbeat = Date.now();
      return { running: where_ !== 'idle' };
    },
    shutdown: async (req) => {
      if (!ending) {
        ending = true;
        if (req.programFinished) log.info(req.reason);
        else log.error(`stopping: ${req.reason}`);
        // Reply first, then stop.
        setImmediate(() => finish(req.exitCode));
      }
      return {};
    },
  };
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 << 20 });
  addKafuNodeService(server, handlers);
  const health = new HealthImplementation({ '': 'SERVING', 'kafu.v1.KafuNode': 'SERVING' });
  health.addToServer(server);
  const listenHost = o.listen ?? (isIP(me.address) ? me.address : '0.0.0.0');
  await bind(server, listenHost, me.port, nodeId);
  peers.connectAll();
  log.info(`Node ${nodeId} listening on ${listenHost}:${me.port}${coordinator ? ' (first node: starts the program)' : ''}`);

  // --- coordinator: wait for the others, start, heartbeat; followers: watch the heartbeat -------------------
  let timer: NodeJS.Timeout | undefined;
  const stopTimers = () => timer && clearInterval(timer);
  try {
    if (coordinator) {
      const storage = await waitForPeers();
      if (!ending) {
        log.info(`Program is starting on ${nodeId}`);
        where_ = 'running';
        started = true;
        worker.start(storage);
        void sendHeartbeats();
        timer = setInterval(() => void sendHeartbeats(), heartbeat.interval_ms);
      }
    } else {
      timer = setInterval(watchCoordinator, heartbeat.interval_ms);
    }
    return await finished;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stopTimers();
    await worker.stop();
    peers.close();
    server.forceShutdown();
  }

  async function waitForPeers(): Promise<StorageIds> {
    const storage: StorageIds = { [nodeId]: myStorage };
    await Promise.all(
      peers.others().map(async (n) => {
        const reply = await peers.retry(
          n.id,
          'waiting for the nodes',
          { timeoutMs: o.peerTimeoutMs, attemptMs: 2000, onFirstFailure: () => log.info(`waiting for node ${n.id} at ${peers.where(n.id)}…`) },
          (c, deadlineMs) => c.hello({ from: nodeId }, { deadlineMs }),
        );
        checkPeer(n, reply);
        storage[n.id] = reply.storage;
      }),
    ).catch((e: Error) => fail(e.message));
    return storage;
  }

  function checkPeer(n: NodeConfig, r: HelloReply): void {
    const at = `${peers.where(n.id)}`;
    if (r.nodeId !== n.id) throw new UserError(`${at} answers as node ${r.nodeId}, but the config puts node ${n.id} there`);
    if (r.configName !== config.name) throw new UserError(`node ${n.id} serves program "${r.configName}", not "${config.name}"`);
    if (r.moduleSha256 !== moduleSha256) {
      throw new UserError(
        `node ${n.id} runs module ${r.moduleSha256.slice(0, 12)}…, this node ${moduleSha256.slice(0, 12)}…: every node must run the same module`,
      );
    }
  }

  /** A node that stops answering is fatal only when it holds the program (then the program is lost). */
  async function sendHeartbeats(): Promise<void> {
    await Promise.all(
      peers.others().map(async (n) => {
        try {
          const r = await peers.client(n.id).heartbeat({ from: nodeId, executionStarted: started }, { deadlineMs: heartbeat.interval_ms * 3 });
          if (lostSince.delete(n.id)) log.info(`node ${n.id} answers again`);
          if (r.running) holder = n.id;
        } catch (e) {
          const since = lostSince.get(n.id) ?? Date.now();
          if (!lostSince.has(n.id)) {
            lostSince.set(n.id, since);
            log.warn(`node ${n.id} (${peers.where(n.id)}) does not answer heartbeats: ${describeRpcError(e)}`);
          }
          if (Date.now() - since > lossAfterMs && where_ === 'idle' && holder === n.id) {
            await fail(`node ${n.id}, where the program was running, stopped answering; the program is lost`);
          }
        }
      }),
    );
  }

  function watchCoordinator(): void {
    if (lastHeartbeat === 0 || ending || heartbeat.follower_on_coordinator_lost === 'ignore') return;
    const silent = Date.now() - lastHeartbeat;
    if (silent > lossAfterMs) {
      void fail(`lost the first node ${first.id}: no heartbeat for ${(silent / 1000).toFixed(1)} s (cluster.heartbeat.follower_on_coordinator_lost: shutdown_self)`);
    }
  }
}

function bind(server: grpc.Server, host: string, port: number, nodeId: string): Promise<void> {
  const target = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err) => {
      if (err) reject(new UserError(`node ${nodeId}: cannot listen on ${target}: ${err.message}`));
      else resolve();
    });
  });
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`;
}
