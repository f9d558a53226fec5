// An arriving program counts on this node still holding something it held when the program last left it — a
// wasi-nn model, follow-mount files — and the node lost it since: restarted, its folder emptied, a browser tab
// replaced by another. Not a bad snapshot: the sender can send one that carries everything (a whole snapshot, the
// same one a saved program or a checkpoint handed on gets), so the receiver refuses the hop saying so (`wholeNeeded`
// in serve/worker-messages.ts) and restores nothing of it.
export class NodeStateLostError extends Error {}
