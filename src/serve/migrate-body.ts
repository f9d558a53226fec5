// A snapshot's bytes as the data messages of a Migrate call, encoded once. Each message is a MigrateChunk
// (proto/kafu.proto) whose `data` field holds the next MIGRATE_CHUNK_BYTES of the snapshot: the field's tag and
// length, then the bytes. The worker that encodes the snapshot writes its pieces (views of the program's memory)
// straight into these messages, all in one buffer it then moves to the main thread, and grpc-js sends them as they
// are (protocol.ts's serializer passes a ready message through): one copy from the program's memory to gRPC's
// framing, where concatenating the snapshot and protobufjs's encoding of each message made two. The bytes are the
// same on the wire, so the receiver decodes them as any MigrateChunk.

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
  /** Encoded MigrateChunk messages (or DATA frames: useHeads), in order; views of one buffer. */
  messages: Uint8Array[];
  /** The snapshot's bytes (the messages' payloads together). */
  byteLength: number;
}

/** Cut `chunks` (the snapshot's bytes in order) into Migrate data messages: one copy of them, into one new buffer. */
export function migrateBody(chunks: Uint8Array[]): MigrateBody {
  const byteLength = chunks.reduce((n, c) => n + c.byteLength, 0);
  const sizes: number[] = [];
  for (let left = byteLength; left > 0; left -= MIGRATE_CHUNK_BYTES) sizes.push(Math.min(left, MIGRATE_CHUNK_BYTES));
  const buffer = new Uint8Array(sizes.reduce((n, s) => n + MESSAGE_HEAD_BYTES + s, 0));
  const messages: Uint8Array[] = [];
  let at = 0;
  let chunk = 0;
  let inChunk = 0;
  for (const size of sizes) {
    const start = at;
    at += MESSAGE_HEAD_BYTES;
    for (let need = size; need > 0; ) {
      const c = chunks[chunk]!;
      const n = Math.min(need, c.byteLength - inChunk);
      buffer.set(c.subarray(inChunk, inChunk + n), at);
      at += n;
      need -= n;
      inChunk += n;
      if (inChunk === c.byteLength) [chunk, inChunk] = [chunk + 1, 0];
    }
    messages.push(buffer.subarray(start, at));
  }
  useHeads({ messages }, 'grpc');
  return { messages, byteLength };
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
