// Standard input for app.output: first_node, where the program reads the first node's stdin wherever it runs,
// as one process would. The worker waits on a shared buffer (stdin-buffer.ts) while the main thread fetches the
// bytes: from this process's stdin on the first node, over the Input call on the others. One reader per process
// owns fd 0, so no byte is read twice or lost.

import * as grpc from '@grpc/grpc-js';
import { randomHex } from '../core/random-id.js';
import type { Peers } from './peers.js';
import { RpcRefusal, type InputReply, type InputRequest } from './protocol.js';
import { STDIN_CHUNK } from './stdin-buffer.js';

export interface StdinReader {
  /** The next bytes (at most `maxBytes`), null at the end. */
  read(maxBytes: number): Promise<Uint8Array | null>;
}

/**
 * The first node's side of the Input call: each caller's requests are numbered, and the answer to the last one is
 * kept, so that a retry of it (its first attempt died on the way: a deadline, a dropped connection) gets the same
 * bytes — taken once from stdin, even while the first attempt's read still waits there — instead of the next ones.
 */
/** The longest stream id an Input request may carry (forwardedStdin's are 16 hex digits). */
const MAX_STREAM_ID = 64;

export function inputServer(stdin: StdinReader): (req: InputRequest) => Promise<InputReply> {
  /** Per node: its last request (a node's new process has a new stream, and takes its place). */
  const last = new Map<string, { stream: string; seq: number; reply: Promise<InputReply> }>();
  return (req) => {
    // A stream id is a node's random hex (forwardedStdin); it is kept, so it is bounded here.
    if (typeof req.stream !== 'string' || req.stream.length > MAX_STREAM_ID || !Number.isSafeInteger(req.seq) || req.seq < 0) {
      throw new RpcRefusal(grpc.status.INVALID_ARGUMENT, `Input from ${req.from}: a stream id of at most ${MAX_STREAM_ID} characters and a whole seq`);
    }
    const kept = last.get(req.from);
    if (kept && kept.stream === req.stream && req.seq > 0) {
      if (req.seq === kept.seq) return kept.reply;
      if (req.seq < kept.seq) throw new RpcRefusal(grpc.status.FAILED_PRECONDITION, `Input ${req.seq} from ${req.from}: answered ${kept.seq} already`);
    }
    const reply = stdin.read(Math.max(1, Math.min(req.maxBytes, STDIN_CHUNK))).then((data) => ({ data: data ?? new Uint8Array(), eof: data === null }));
    last.set(req.from, { stream: req.stream, seq: req.seq, reply });
    return reply;
  };
}

/**
 * A follower's reads of the first node's stdin, over the Input call: numbered, and each retried with the same number
 * until answered (for at most `timeoutMs` of failures; then it rejects).
 */
export function forwardedStdin(peers: Peers, firstNode: string, timeoutMs: number): StdinReader {
  const stream = randomHex(8);
  let seq = 0;
  return {
    async read(maxBytes) {
      const req = { from: peers.self, maxBytes, stream, seq: ++seq };
      const r = await peers.retry(firstNode, "reading the first node's stdin", { timeoutMs, attemptMs: 24 * 3600_000 }, (c, deadlineMs) =>
        c.input(req, { deadlineMs }),
      );
      return r.eof ? null : r.data;
    },
  };
}

/**
 * This process's stdin, read asynchronously and in order: each `read` gets the next bytes (at most `maxBytes`),
 * null at the end. Opened on first use; `close` lets the process exit.
 */
export function processStdinReader(stream: NodeJS.ReadableStream & { destroy(): void } = process.stdin): StdinReader & { close(): void } {
  let opened = false;
  let ended = false;
  let queue = Promise.resolve<Uint8Array | null>(null);
  const next = (maxBytes: number) =>
    new Promise<Uint8Array | null>((resolve) => {
      const attempt = () => {
        const chunk = stream.read() as Buffer | null;
        if (chunk) {
          // What the caller cannot take now is read first next time.
          if (chunk.byteLength > maxBytes) stream.unshift(chunk.subarray(maxBytes));
          done(chunk.subarray(0, maxBytes));
        } else if (ended) done(null);
      };
      const done = (b: Uint8Array | null) => {
        stream.off('readable', attempt);
        stream.off('end', attempt);
        resolve(b);
      };
      stream.on('readable', attempt);
      stream.on('end', attempt);
      attempt();
    });
  return {
    read(maxBytes) {
      if (!opened) {
        opened = true;
        stream.on('end', () => (ended = true));
        stream.on('error', () => (ended = true)); // no usable stdin: end of input
      }
      return (queue = queue.then(() => next(maxBytes)));
    },
    close() {
      if (opened) stream.destroy();
    },
  };
}
