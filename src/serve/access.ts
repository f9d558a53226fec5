// Who may make which call. With TLS the caller is the node its certificate names (tls.ts); in a plaintext cluster
// only what the request claims, so these rules then keep honest nodes consistent but stop no one.
//
//   every call        from a node of this cluster, and `from` is the caller itself
//   Heartbeat         only from the first node (a forged heartbeat would keep followers alive after it died)
//   Output, Input     only to the first node (checked by the handlers: only it serves them)
//   Shutdown          "the program finished" only from the node that holds the program as far as this node knows
//                     (see shutdownAllowed); "the cluster failed" from any node
//   Migrate(Whole)    any node (the first node handing a checkpoint back too: cluster.checkpoint); taken only by an
//                     idle node (handoff.ts checkHandOff), so no second copy of a running program can start
//   Socket            not while the program runs on this node, only from its destination while this node hands it
//                     on, and only on handles the caller got from the program's state (a handle is a capability)
//   Hello's listeners a node's told only to the first node (it hands them to the program); the first node's own
//                     to every node (for a program arriving with older handles: sockets.ts)
import * as grpc from '@grpc/grpc-js';
import type { NodeContext } from './node-context.js';
import { RpcRefusal } from './protocol.js';

const deny = (why: string) => new RpcRefusal(grpc.status.PERMISSION_DENIED, why);

/** The caller's node id, once it is known to be a node of this cluster speaking for itself. */
export function admit(ctx: NodeContext, claimed: string, proven: string | undefined): string {
  if (ctx.tls) {
    if (proven === undefined) throw deny('no node certificate'); // cannot happen past the handshake; be sure anyway
    if (!ctx.config.nodes.some((n) => n.id === proven)) throw deny(`${proven} is not a node of ${ctx.config.name}`);
    if (claimed !== proven) throw deny(`the caller's certificate is for ${proven}, but the request says it is from ${JSON.stringify(claimed)}`);
    return proven;
  }
  if (!ctx.config.nodes.some((n) => n.id === claimed)) throw deny(`${JSON.stringify(claimed)} is not a node of ${ctx.config.name}`);
  return claimed;
}

export function heartbeatAllowed(ctx: NodeContext, caller: string): void {
  if (caller !== ctx.first.id) throw deny(`heartbeats come from the first node (${ctx.first.id}), not ${caller}`);
}

/**
 * "The program finished" is believed from the node this node last knew to hold the program. Knowledge can lag (the
 * program went A → B → C, A still thinks B has it), so every node that believes it passes it on to all others
 * (serve.ts): each node's belief points to a later holder, so the news reaches everyone through nodes they believe.
 */
export function shutdownAllowed(ctx: NodeContext, caller: string, programFinished: boolean): void {
  if (programFinished && caller !== ctx.state.holder) {
    throw deny(`"program finished" from ${caller}, but the program is on ${ctx.state.holder} as far as ${ctx.nodeId} knows`);
  }
}

/**
 * A socket operation is made by the node that runs the program. This node cannot always know which one that is (the
 * program may have moved on since its last hand-off here), but it knows when the program runs *here* (then no one
 * else drives its sockets) and, while handing it on, who gets it (that node may run it before the hand-off's reply
 * arrives). Past that, the handle is the capability: only a node that was handed the program's state has it.
 */
export function socketAllowed(ctx: NodeContext, caller: string): void {
  const { state } = ctx;
  if (state.ending) throw new RpcRefusal(grpc.status.UNAVAILABLE, `node ${ctx.nodeId} is stopping`);
  const runs = state.where === 'running' ? ctx.nodeId : state.where === 'departing' ? state.holder : undefined;
  if (runs !== undefined && caller !== runs) throw deny(`socket calls come from the node that runs the program, which is ${runs}, not ${caller}`);
}
