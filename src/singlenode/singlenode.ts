// `kafu singlenode serve`: every node of the config in one process. Unlike Kafu's emulator, each migration
// really checkpoints to snapshot bytes and restores them, so a local run exercises the same state capture as
// production, and the same transfer: deltas against the memory each node holds from its last hop and compression,
// as cluster.migration configures them, and each node's one parked instance, as kafu serve keeps them.
import { GuestInstance, GuestModule } from '../core/guest.js';
import type { Logger } from '../core/log.js';
import { asTrap, TRAP_EXIT_CODE, wasmBacktrace } from '../core/trap.js';

export { TRAP_EXIT_CODE };
import type { Migration } from '../core/migration-stack.js';
import { checkPlacement, describeMigration, runSegment } from '../core/program.js';
import type { Snapshot } from '../core/snapshot.js';
import { INITIAL_BASELINE_ID, decodeTransfer, encodeTransfer, ownBaseline, type Baseline } from '../core/transfer.js';
import { concat } from '../core/wasm-sections.js';
import { loadConfigFile, type LoadedConfig } from '../node/config-file.js';
import type { KafuConfig } from '../core/config.js';
import type { SocketRef } from '../wasi/sockets.js';
import { readModule } from '../node/module-source.js';
import { NodeNn } from '../node/node-nn.js';
import { nodeProgramHost, warmUpArrivalChecks, type NodeHostOptions } from '../node/node-system.js';
import { LocalSockets } from '../node/local-sockets.js';
import { NodeStateLostError } from '../wasi/node-state-lost.js';

export interface SinglenodeOptions {
  log: Logger;
  stdout?: NodeHostOptions['stdout'];
  stderr?: NodeHostOptions['stderr'];
  stdin?: NodeHostOptions['stdin'];
  /** Test harness: also migrate to the next node after every N-th WASI call (module built with syscall points). */
  forceMigrationEvery?: number;
  /** Called after each migration, with the bytes the transfer carried (after delta and compression). */
  onMigration?: (migration: Migration, bytesSent: number) => void;
}

export interface SinglenodeResult {
  exitCode: number;
  migrations: number;
  /**
   * Total time the program did not run because of migrations, in ms: from the migration point's decision to the
   * resumed instance running again (unwind, capture, encode, decode, fresh instance, restore, rewind).
   */
  downtimeMs: number;
  /** The longest single migration's downtime, in ms. */
  maxDowntimeMs: number;
  /** Bytes all transfers carried together. */
  bytesSent: number;
  /**
   * Resumes in the instance a node kept (the one the program left there, or one prepared ahead) rather than a fresh
   * one, and of those, how many wrote only the pages a delta changed.
   */
  warmResumes: number;
  deltaResumes: number;
}

export async function singlenodeServe(configFile: string, opts: SinglenodeOptions): Promise<SinglenodeResult> {
  const { log } = opts;
  const loaded = loadConfigFile(configFile);
  const { config } = loaded;
  const { bytes, where } = await readModule(loaded);
  const guest = await GuestModule.load(bytes, where);
  checkPlacement(guest.meta, config.nodes.map((n) => n.id), where);
  // Every node's listeners in this process: the program reaches them from every node without a relay.
  const sockets = config.app.listen.length > 0 ? new LocalSockets() : undefined;
  try {
    const listeners = sockets?.listen(config.app.listen.map((l, i) => ({ home: l.node, address: l.address, port: l.port, what: `app.listen[${i}]` })));
    config.app.listen.forEach((l, i) => log.info(`Listening on ${l.address}:${l.port} for the program (app.listen[${i}], node ${l.node})`));
    return await runNodes(guest, where, config, loaded, opts, sockets, listeners);
  } finally {
    await sockets?.close();
  }
}

async function runNodes(
  guest: GuestModule,
  where: string,
  config: KafuConfig,
  loaded: LoadedConfig,
  opts: SinglenodeOptions,
  sockets: LocalSockets | undefined,
  listeners: SocketRef[] | undefined,
): Promise<SinglenodeResult> {
  const { log } = opts;
  const host = nodeProgramHost({
    programName: where,
    args: config.app.args,
    env: Object.entries(config.app.env).map(([k, v]) => `${k}=${v}`),
    mounts: loaded.mounts,
    nn: new NodeNn(loaded.nn, log),
    oneMachine: true,
    warn: (m) => log.warn(m),
    stdout: opts.stdout,
    stderr: opts.stderr,
    stdin: opts.stdin,
    sockets: sockets?.host,
    listeners,
  });

  const forced = opts.forceMigrationEvery
    ? { every: opts.forceMigrationEvery, nodes: config.nodes.map((n) => n.id) }
    : undefined;
  let node = config.nodes[0]!.id;
  let snapshot: Snapshot | undefined;
  let migrations = 0;
  let downtimeMs = 0;
  let maxDowntimeMs = 0;
  let bytesSent = 0;
  let warmResumes = 0;
  let deltaResumes = 0;
  let result0 = 0;
  const { memory_migration: mode, memory_compression: compression } = config.cluster.migration;
  // Each node holds the memory of the last hop it took part in (delta mode): the sender's own image, the receiver's
  // as decoded, just as two machines would.
  const held = new Map<string, Baseline>();
  // Each node's one parked instance (the one the program left it in, or one prepared ahead) and the image its
  // memory holds.
  const parked = new Map<string, { instance: GuestInstance; imageId: string }>();
  parked.set(node, { instance: new GuestInstance(guest), imageId: INITIAL_BASELINE_ID });
  warmUpArrivalChecks();
  /** The pages the last transfer changed, and the image it is a delta against (if it is one). */
  let changed: number[] | undefined;
  let against: string | undefined;
  /** The sender's work after a hop that is off the downtime (on two machines it runs while the receiver resumes). */
  let afterResume: (() => void) | undefined;
  /** The node the program last came from, and whether the snapshot is whole (made self-contained) already. */
  let cameFrom: string | undefined;
  let resentWhole = false;
  log.info(`Program is starting on ${node}`);
  for (;;) {
    let result: ReturnType<typeof runSegment>;
    const warm = parked.get(node) ?? { instance: new GuestInstance(guest), imageId: INITIAL_BASELINE_ID };
    parked.delete(node);
    const fits = !snapshot || warm.instance.memoryBytes <= snapshot.memory.byteLength;
    const onlyChanged = fits && against !== undefined && against === warm.imageId ? changed : undefined;
    if (snapshot && fits) warmResumes++;
    if (snapshot && onlyChanged) deltaResumes++;
    try {
      result = runSegment(guest, node, host, {
        from: snapshot,
        forced,
        instance: fits ? warm.instance : undefined,
        changed: onlyChanged,
        onResumed: () => {
          const d = performance.now() - result0;
          downtimeMs += d;
          maxDowntimeMs = Math.max(maxDowntimeMs, d);
          log.debug(`resumed on ${node}, downtime ${d.toFixed(2)} ms`);
          afterResume?.();
          afterResume = undefined;
        },
      });
    } catch (e) {
      // A node's folder lost files the program counts on (emptied while the program was away): as between two
      // machines, the sender sends everything again, once.
      if (e instanceof NodeStateLostError && snapshot && cameFrom !== undefined && !resentWhole && host.selfContained) {
        log.warn(`node ${node} could not resume the program (${e.message}); sending it again with all its files`);
        snapshot = host.selfContained(cameFrom, snapshot);
        [changed, against, resentWhole] = [undefined, undefined, true];
        continue;
      }
      const trap = asTrap(e);
      if (!trap) throw e;
      log.error(`Program trapped on ${node}: ${trap.message}`);
      for (const frame of wasmBacktrace(trap)) log.error(`    at ${frame}`);
      return { exitCode: TRAP_EXIT_CODE, migrations, downtimeMs, maxDowntimeMs, bytesSent, warmResumes, deltaResumes };
    }
    if (result.kind === 'exited') {
      log.info(`Program finished on ${node} (exit code ${result.code})`);
      if (migrations > 0) {
        log.debug(`${migrations} migrations, downtime ${downtimeMs.toFixed(1)} ms in all, ${(downtimeMs / migrations).toFixed(2)} ms each`);
      }
      return { exitCode: result.code, migrations, downtimeMs, maxDowntimeMs, bytesSent, warmResumes, deltaResumes };
    }
    result0 = result.suspendedAt;
    const to = result.migration.to;
    const [mine, theirs] = [held.get(node), held.get(to)];
    // A delta needs the receiver to hold the same image (with three nodes or more, it may not).
    // Else a delta against the module's initial image, which every node builds.
    const baseline = mode !== 'delta' ? undefined : mine && theirs?.id === mine.id ? mine : guest.initialBaseline();
    const sent = encodeTransfer(result.snapshot, { compression, baseline });
    const t1 = performance.now();
    // One buffer, as on the wire: nothing received is a view of the sender's memory.
    const received = decodeTransfer([concat(sent.chunks)], (id) =>
      theirs?.id === id ? theirs.memory : id === INITIAL_BASELINE_ID ? guest.initialBaseline().memory : undefined,
    );
    snapshot = received.snapshot;
    ({ changed, against } = received);
    parked.set(node, { instance: result.instance, imageId: sent.baseline.id });
    if (mode === 'delta') {
      // The sender's baseline is a view of its parked instance's memory until this makes it a copy.
      const [from, next, sentPages] = [node, sent.baseline, sent.changed];
      held.set(from, next);
      afterResume = () => held.set(from, ownBaseline(next, baseline, sentPages));
      held.set(to, received.baseline);
    }
    migrations++;
    bytesSent += sent.stats.sentBytes;
    log.info(describeMigration(result.migration));
    opts.onMigration?.(result.migration, sent.stats.sentBytes);
    const { rawBytes, sentBytes, pagesSent, pagesUnchanged, encodeMs } = sent.stats;
    log.debug(
      `transfer ${baseline ? 'delta' : 'full'}${compression ? '+compression' : ''}: ${sentBytes} of ${rawBytes} bytes ` +
        `(${pagesSent} pages sent, ${pagesUnchanged} unchanged), encode ${encodeMs.toFixed(2)} ms, ` +
        `decode ${(performance.now() - t1).toFixed(2)} ms`,
    );
    [cameFrom, node, resentWhole] = [node, to, false];
  }
}
