// Where the program's stdout and stderr go on a node. `local` (Kafu's behaviour): this node's own terminal.
// `first_node`: nodes other than the first send their output to the first node in order, and a node hands the
// program on (or ends it) only once everything it printed has arrived, so the first node's terminal shows the
// whole output in program order, as one process would.
import type { Peers } from './peers.js';
import { writeProgramStderr } from '../node/stderr-line.js';
import type { OutputChunk, OutputRequest } from './protocol.js';
import { randomHex } from '../core/random-id.js';

/** One request carries at most this much output. */
const MAX_BATCH_BYTES = 1 << 20;

export interface OutputSink {
  write(fd: 1 | 2, data: Uint8Array): void;
  /** Resolves once everything written so far has been delivered (printed here, or acknowledged by the first node). */
  drain(): Promise<void>;
  /**
   * What is not delivered yet, taken out of this sink (after what is already on its way arrived), to travel with
   * the program: the next node delivers it before anything the program prints there.
   */
  takePending(): Promise<OutputChunk[]>;
  /** The first node could not be reached (forwarded output only): what is not delivered is kept, never dropped. */
  lost?(): boolean;
  /** Bytes of the program's output printed here (countedOutput only). */
  printed?(): number;
}

/** Writes to this process's stdout/stderr. */
export function localOutput(): OutputSink {
  return {
    write: (fd, data) => (fd === 1 ? void process.stdout.write(data) : writeProgramStderr(data)),
    drain: () =>
      Promise.all(
        [process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write('', () => resolve()))),
      ).then(() => undefined),
    takePending: async () => [],
  };
}

/**
 * The first node's terminal, counting what it printed of the program's output (stdout and stderr together), and able
 * to leave out the next `n` bytes: what a program continued from a checkpoint prints again of what was printed
 * before (serve.ts). Exact when the program prints the same bytes again, as a deterministic one does.
 */
export function countedOutput(sink: OutputSink): OutputSink & { printed(): number; skipNext(n: number): void } {
  let printed = 0;
  let skip = 0;
  return {
    ...sink,
    write(fd, data) {
      const drop = Math.min(skip, data.byteLength);
      skip -= drop;
      printed += data.byteLength - drop;
      if (drop < data.byteLength) sink.write(fd, drop === 0 ? data : data.subarray(drop));
    },
    printed: () => printed,
    skipNext(n) {
      skip = n;
    },
  };
}

/**
 * Sends to the first node, in order, one request at a time. When the first node cannot be reached (`onLost`), the
 * output not delivered stays queued, never dropped: it travels with the program (takePending) into the next node or
 * a saved file, or is printed by this node if the program ends here. From then on nothing more is sent.
 */
export function forwardedOutput(peers: Peers, firstNode: string, o: { timeoutMs: number; onLost: (e: Error) => void }): OutputSink {
  const queue: OutputChunk[] = [];
  const stream = randomHex(8);
  let seq = 0;
  let sending: Promise<void> | undefined;
  let holding = false;
  let lost = false;
  const pump = async () => {
    while (queue.length > 0 && !holding && !lost) {
      let n = 1;
      for (let bytes = queue[0]!.data.byteLength; n < queue.length && bytes + queue[n]!.data.byteLength <= MAX_BATCH_BYTES; n++) {
        bytes += queue[n]!.data.byteLength;
      }
      const batch = queue.slice(0, n);
      const req = { from: peers.self, stream, seq: ++seq, chunks: batch };
      await peers.retry(firstNode, 'forwarding program output', { timeoutMs: o.timeoutMs, attemptMs: 10_000 }, (c, deadlineMs) =>
        c.output(req, { deadlineMs }),
      );
      queue.splice(0, n); // delivered (only now: a batch that never arrives stays)
    }
  };
  const kick = () => {
    sending ??= pump()
      .catch((e: Error) => {
        lost = true;
        o.onLost(e);
      })
      .finally(() => {
        sending = undefined;
        if (queue.length > 0 && !holding && !lost) void kick();
      });
    return sending;
  };
  return {
    write(fd, data) {
      queue.push({ fd, data });
      void kick();
    },
    async drain() {
      while (!lost && (sending || queue.length > 0)) await kick();
    },
    async takePending() {
      holding = true;
      try {
        await sending;
        return queue.splice(0);
      } finally {
        holding = false;
      }
    },
    lost: () => lost,
  };
}

/** The first node's side: print forwarded requests once each, in order of arrival. */
export function outputReceiver(local: OutputSink): (req: OutputRequest) => Promise<void> {
  const lastSeq = new Map<string, number>();
  return async (req) => {
    // A retried request that did arrive before is not printed twice.
    const key = `${req.from}/${req.stream}`;
    if ((lastSeq.get(key) ?? 0) >= req.seq) return;
    lastSeq.set(key, req.seq);
    for (const c of req.chunks) local.write(c.fd === 2 ? 2 : 1, c.data);
    await local.drain();
  };
}
