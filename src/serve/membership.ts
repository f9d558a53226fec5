// Who is in the cluster and alive. The first node waits for every other node before starting the program (same
// module, same config) and then sends heartbeats; a follower that stops hearing them shuts itself down (unless
// configured to ignore that); when the node holding the program stops answering, the first node continues from a
// checkpoint (cluster.checkpoint) or ends the run.
import type { NodeConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import type { StorageIds } from '../node/node-system.js';
import { setHolder, type NodeContext } from './node-context.js';
import { describeRpcError, type HelloReply } from './protocol.js';

/** A peer silent this long is taken as gone. */
export const lossAfterMs = (ctx: NodeContext) => ctx.config.cluster.heartbeat.interval_ms * 5 + 2000;

/** First node: wait until every other node answers and matches; returns every node's mount identities. */
export async function waitForPeers(ctx: NodeContext): Promise<StorageIds> {
  const { peers, log } = ctx;
  const storage: StorageIds = { [ctx.nodeId]: ctx.storage };
  await Promise.all(
    peers.others().map(async (n) => {
      const reply = await peers.retry(
        n.id,
        'waiting for the nodes',
        { timeoutMs: ctx.peerTimeoutMs, attemptMs: 2000, onFirstFailure: () => log.info(`waiting for node ${n.id} at ${peers.where(n.id)}…`) },
        (c, deadlineMs) => c.hello({ from: ctx.nodeId, listeners: ctx.sockets.ownListeners() }, { deadlineMs }),
      );
      checkPeer(ctx, n, reply);
      storage[n.id] = reply.storage;
      ctx.sockets.learn(n.id, reply.listeners);
    }),
  );
  return storage;
}

function checkPeer(ctx: NodeContext, n: NodeConfig, r: HelloReply): void {
  const { config, moduleSha256 } = ctx;
  if (r.nodeId !== n.id) throw new UserError(`${ctx.peers.where(n.id)} answers as node ${r.nodeId}, but the config puts node ${n.id} there`);
  if (r.configName !== config.name) throw new UserError(`node ${n.id} serves program "${r.configName}", not "${config.name}"`);
  if (r.moduleSha256 !== moduleSha256) {
    throw new UserError(
      `node ${n.id} runs module ${r.moduleSha256.slice(0, 12)}…, this node ${moduleSha256.slice(0, 12)}…: every node must run the same module`,
    );
  }
}

/** First node: heartbeat every node now and every interval; returns a function that stops it. */
export function sendHeartbeats(ctx: NodeContext): () => void {
  const { peers, log, state } = ctx;
  const lostSince = new Map<string, number>();
  const idleSince = new Map<string, number>();
  const beat = () =>
    peers.others().map(async (n) => {
      try {
        const askedAt = performance.now();
        const r = await peers.client(n.id).heartbeat(
          { from: ctx.nodeId, executionStarted: state.started },
          { deadlineMs: ctx.config.cluster.heartbeat.interval_ms * 3 },
        );
        if (lostSince.delete(n.id)) log.info(`node ${n.id} answers again`);
        // The answer is news as of when it was asked: if this node handed the program on (or got it) since, the
        // answer is older than what this node knows (n may say "running" of a program that has moved on through
        // here, and "program finished" from its real holder would then be refused).
        const fresh = askedAt >= state.holderKnownAt;
        if (r.running && fresh) setHolder(state, n.id, askedAt);
        // A holder restarted before it was missed answers, but without the program.
        const without = fresh && state.started && state.where === 'idle' && state.holder === n.id && !r.running;
        if (!without) idleSince.delete(n.id);
        else if (!idleSince.has(n.id)) idleSince.set(n.id, Date.now());
        else if (Date.now() - idleSince.get(n.id)! > lossAfterMs(ctx)) await ctx.holderLost(n.id);
      } catch (e) {
        const since = lostSince.get(n.id) ?? Date.now();
        if (!lostSince.has(n.id)) {
          lostSince.set(n.id, since);
          log.warn(`node ${n.id} (${peers.where(n.id)}) does not answer heartbeats: ${describeRpcError(e)}`);
        }
        // Fatal only when it holds the program (then the program is lost); an idle node may come back.
        if (Date.now() - since > lossAfterMs(ctx) && state.where === 'idle' && state.holder === n.id) await ctx.holderLost(n.id);
      }
    });
  void beat();
  const timer = setInterval(beat, ctx.config.cluster.heartbeat.interval_ms);
  return () => clearInterval(timer);
}

/**
 * Follower: shut down when the first node has been silent too long; returns a function that stops watching. Only
 * this node stops (telling the others would stop the one that holds the program), and a node that holds the program
 * never drops it: it runs on and is saved to a file at its next migration point (or finishes here, and this node
 * prints the output the first node could not).
 */
export function watchCoordinator(ctx: NodeContext): () => void {
  const { state, log } = ctx;
  const policy = ctx.config.cluster.heartbeat.follower_on_coordinator_lost;
  const timer = setInterval(() => {
    if (state.lastHeartbeat === 0 || state.ending || policy === 'ignore') return;
    const silent = Date.now() - state.lastHeartbeat;
    if (silent <= lossAfterMs(ctx)) {
      if (state.saveAtNextStop) log.info(`the first node ${ctx.first.id} answers again; the program goes on as before`);
      state.saveAtNextStop = false;
      return;
    }
    const lost = `lost the first node ${ctx.first.id}: no heartbeat for ${(silent / 1000).toFixed(1)} s (cluster.heartbeat.follower_on_coordinator_lost: shutdown_self)`;
    if (state.where === 'idle' && !state.resuming) return void ctx.coordinatorLost(lost);
    if (state.saveAtNextStop) return;
    state.saveAtNextStop = true;
    log.warn(`${lost}; the program runs here: it is saved at its next migration point, or finishes here`);
  }, ctx.config.cluster.heartbeat.interval_ms);
  return () => clearInterval(timer);
}
