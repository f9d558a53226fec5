// A snapshot's bytes as the data messages of a Migrate call, encoded once. Each message is a MigrateChunk
// (proto/kafu.proto) whose `data` field holds the next MIGRATE_CHUNK_BYTES of the snapshot: the field's tag and
// length, then the bytes. The worker that encodes the snapshot writes its pieces (views of the program's memory)
// straight into these messages, all in one buffer it then moves to the main thread, and grpc-js sends them as they
// are (protocol.ts's serializer passes a ready message through): one copy from the program's memory to gRPC's
// framing, where concatenating the snapshot and protobufjs's encoding of each message made two. The bytes are the
// same on the wire, so the receiver decodes them as any MigrateChunk.

import { CHECKSUM_BYTES, FrameChecksum } from '../core/snapshot.js';

/** Snapshot bytes per Migrate message: well under gRPC's default 4 MiB message limit. */
export const MIGRATE_CHUNK_BYTES = 1 << 20;
/** MigrateChunk field 2 (`data`), length-delimited. */
const DATA_TAG = (2 << 3) | 2;
/**
 * Bytes before each message's payload: the field's tag and its length as a varint padded to 4 bytes (protobuf
 * decoders take a varint with redundant continuation bytes). That is the size of a DATA frame's header in the direct
 * hand-off transport (handoff-frames.ts), which writes its header over it: each message is then one contiguous frame
 * there too, with no copy (useHeads).
 */
export const MESSAGE_HEAD_BYTES = 5;
const DATA_FRAME = 2; // handoff-frames.ts FrameType.DATA (kept literal: this file is also the worker's)

export interface MigrateBody {
  /** Encoded MigrateChunk messages (or DATA frames: useHeads), in order; views of one buffer, or of a few (parts). */
  messages: Uint8Array[];
  /** The snapshot's bytes (the messages' payloads together). */
  byteLength: number;
  /** Set while more messages are still coming (the worker copies them as the first are sent: BodyTail). */
  tail?: BodyTail;
}

/**
 * The messages of a body still to come: the worker that encodes a large hop hands its body on in parts, the first as
 * soon as it is copied, so that its first bytes are on the wire while it copies the rest (program-worker.ts).
 */
export class BodyTail {
  done = false;
  private waiting: (() => void)[] = [];

  constructor(private readonly body: MigrateBody) {}

  /** The next part's messages; `last`: all are here. */
  add(messages: Uint8Array[], last: boolean): void {
    this.body.messages.push(...messages);
    this.done = last;
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w();
  }

  /** Resolves once another part is here (or all are). */
  next(): Promise<void> {
    return this.done ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
  }
}

/** Each of the body's messages, as soon as it is here. */
export async function* eachMessage(body: MigrateBody): AsyncGenerator<Uint8Array> {
  for (let i = 0; ; ) {
    while (i < body.messages.length) yield body.messages[i++]!;
    if (!body.tail || body.tail.done) {
      if (i < body.messages.length) continue;
      return;
    }
    await body.tail.next();
  }
}

/** The body once all its messages are here. */
export async function wholeBody<B extends MigrateBody>(body: B): Promise<B> {
  while (body.tail && !body.tail.done) await body.tail.next();
  return body;
}

/** A part of a body: its messages, views of `buffer`. */
export interface BodyPart {
  messages: Uint8Array[];
  buffer: ArrayBuffer;
}

/**
 * Cut `chunks` (the snapshot's bytes in order) into Migrate data messages: one copy of them, into one new buffer.
 * A chunk in `whole` (a raw page, whose copy in the body is to become the sender's baseline: worker.ts) is not cut
 * between two messages: a message ends before it where it would not fit, so that its bytes lie in one piece of the
 * buffer. Each message's payload starts 4-byte aligned in the buffer. `placed`: where each chunk of `whole` lies
 * in it (byte offset), where that is 4-byte aligned (the transfer's page payloads are, relative to its start).
 */
export function migrateBody(chunks: Uint8Array[], whole?: ReadonlySet<Uint8Array>): MigrateBody & { placed: Map<Uint8Array, number> } {
  const placed = new Map<Uint8Array, number>();
  const parts = [...bodyParts(chunks, Infinity, whole, (c, _, at) => placed.set(c, at))];
  return { messages: parts.flatMap((p) => p.messages), byteLength: chunks.reduce((n, c) => n + c.byteLength, 0), placed };
}

/**
 * migrateBody in parts of about `partBytes` (whole messages), each in a buffer of its own, copied one at a time as
 * the generator is asked for the next: the first can be sent while the next is copied. `placed(chunk, part, at)`:
 * a chunk of `whole` lies 4-byte aligned at byte `at` of part `part`'s buffer. `seal`: the chunks end with a zero
 * checksum trailer (encodeTransfer's `unsealed`), which is computed over the bytes as they are copied and written
 * into the last part.
 */
export function* bodyParts(
  chunks: Uint8Array[],
  partBytes: number,
  whole?: Pick<ReadonlySet<Uint8Array>, 'has'>,
  placed?: (chunk: Uint8Array, part: number, at: number) => void,
  seal = false,
): Generator<BodyPart> {
  const sum = seal ? new FrameChecksum() : undefined;
  // The messages' payload sizes: up to MIGRATE_CHUNK_BYTES, ended early before a chunk of `whole` that would not fit.
  const sizes: number[] = [];
  let size = 0;
  const cut = () => {
    sizes.push(size);
    size = 0;
  };
  for (const c of chunks) {
    if (whole?.has(c) && size > 0 && size + c.byteLength > MIGRATE_CHUNK_BYTES) cut();
    for (let left = c.byteLength; left > 0; ) {
      const n = Math.min(left, MIGRATE_CHUNK_BYTES - size);
      size += n;
      left -= n;
      if (size === MIGRATE_CHUNK_BYTES) cut();
    }
  }
  if (size > 0) cut();
  let c = 0; // the chunk being copied, and how much of it is
  let from = 0;
  for (let first = 0, part = 0; first < sizes.length; part++) {
    // This part's messages, each starting MESSAGE_HEAD_BYTES before a 4-byte boundary (a few bytes between unused).
    const starts: number[] = [];
    let end = 0;
    let last = first;
    do {
      const start = end + ((4 - ((end + MESSAGE_HEAD_BYTES) % 4)) % 4);
      starts.push(start);
      end = start + MESSAGE_HEAD_BYTES + sizes[last++]!;
    } while (last < sizes.length && end < partBytes);
    const buffer = new Uint8Array(end);
    const messages = starts.map((start, i) => buffer.subarray(start, start + MESSAGE_HEAD_BYTES + sizes[first + i]!));
    for (const m of messages) {
      for (let at = m.byteOffset + MESSAGE_HEAD_BYTES, messageEnd = m.byteOffset + m.byteLength; at < messageEnd; ) {
        const chunk = chunks[c]!;
        if (from === 0 && whole?.has(chunk) && at + chunk.byteLength <= messageEnd && at % 4 === 0) placed?.(chunk, part, at);
        const n = Math.min(chunk.byteLength - from, messageEnd - at);
        buffer.set(from === 0 && n === chunk.byteLength ? chunk : chunk.subarray(from, from + n), at);
        at += n;
        from += n;
        if (from === chunk.byteLength) [c, from] = [c + 1, 0];
      }
      // (The checksum leaves out the last CHECKSUM_BYTES fed: the trailer, once the last message is.)
      sum?.update(m.subarray(MESSAGE_HEAD_BYTES));
    }
    if (sum && last === sizes.length) {
      const end = messages[messages.length - 1]!;
      end.set(sum.digest(), end.byteLength - CHECKSUM_BYTES);
    }
    useHeads({ messages }, 'grpc');
    first = last;
    yield { messages, buffer: buffer.buffer };
  }
}

/**
 * Write each message's head for the transport about to send the body: 'grpc' (MigrateChunk messages) or 'frames'
 * (the direct hand-off transport's DATA frames). A body is sent by one transport at a time.
 */
export function useHeads(body: Pick<MigrateBody, 'messages'>, as: 'grpc' | 'frames'): void {
  for (const m of body.messages) {
    const size = m.byteLength - MESSAGE_HEAD_BYTES;
    if (as === 'frames') {
      m[0] = DATA_FRAME;
      new DataView(m.buffer, m.byteOffset, MESSAGE_HEAD_BYTES).setUint32(1, size);
    } else {
      m[0] = DATA_TAG;
      for (let i = 0; i < 4; i++) m[1 + i] = ((size >>> (7 * i)) & 0x7f) | (i < 3 ? 0x80 : 0);
    }
  }
}

/** The snapshot's bytes a message carries (a view). */
export function payloadOf(message: Uint8Array): Uint8Array {
  return message.subarray(MESSAGE_HEAD_BYTES);
}

/** The snapshot's bytes in one buffer (for a file): a copy. */
export function bodyBytes(body: MigrateBody): Uint8Array {
  const out = new Uint8Array(body.byteLength);
  let at = 0;
  for (const m of body.messages) {
    const payload = payloadOf(m);
    out.set(payload, at);
    at += payload.byteLength;
  }
  return out;
}

/** The buffers behind `pieces`, to move with a postMessage (a body's messages: one buffer, unless empty). */
export const buffersOf = (pieces: Uint8Array[]): ArrayBuffer[] => [...new Set(pieces.map((p) => p.buffer as ArrayBuffer))];
