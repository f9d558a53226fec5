// The frames of the direct hand-off transport (handoff-transport.ts): what a Migrate call carries over gRPC, on a
// connection of its own without HTTP/2's 16 KiB frames, protobuf per message and one JS callback per frame.
//
//   connection  MAGIC (answered with MAGIC: this port speaks it), then any number of hand-offs, one after another
//   hand-off    START (a MigrateStart, protobuf as in a gRPC Migrate call), DATA* (the snapshot's bytes), END
//   answer      REPLY (a MigrateReply, protobuf) or REFUSAL (u32 status code, UTF-8 message)
//
// Every frame is a 1-byte type and a 4-byte big-endian payload length, then the payload. The reader (FrameReader)
// refuses a frame over its type's limit from its header alone, before any of its payload is kept.
import { MAX_MESSAGE_BYTES } from './protocol.js';

/** ALPN protocol id the hand-off transport negotiates on the node's TLS port (gRPC's connections say 'h2'). */
export const HANDOFF_ALPN = 'kafu-handoff/1';
/** First bytes of a hand-off connection: on a plaintext port they tell it from HTTP/2 (whose preface is "PRI * HTTP/2.0"). */
export const MAGIC = Buffer.from('KAFUHO1\n', 'latin1');

export const FrameType = { START: 1, DATA: 2, END: 3, REPLY: 4, REFUSAL: 5 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const HEADER_BYTES = 5;
/** A START frame's largest payload: as gRPC's largest message (the start carries the sender's undelivered output). */
export const MAX_START_BYTES = MAX_MESSAGE_BYTES;
/** A DATA frame's largest payload (a sender cuts the snapshot into frames of at most this). */
export const MAX_DATA_BYTES = 16 << 20;
/** A REPLY or REFUSAL's largest payload. */
export const MAX_ANSWER_BYTES = 64 << 10;

const limits: Record<number, number> = {
  [FrameType.START]: MAX_START_BYTES,
  [FrameType.DATA]: MAX_DATA_BYTES,
  [FrameType.END]: 0,
  [FrameType.REPLY]: MAX_ANSWER_BYTES,
  [FrameType.REFUSAL]: MAX_ANSWER_BYTES,
};

/** A frame's header (to write before its payload). */
export function frameHeader(type: FrameType, length: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  h[0] = type;
  h.writeUInt32BE(length, 1);
  return h;
}

export function frame(type: FrameType, payload: Uint8Array = new Uint8Array(0)): Buffer {
  return Buffer.concat([frameHeader(type, payload.byteLength), payload]);
}

export function refusalFrame(code: number, message: string): Buffer {
  const text = Buffer.from(message.slice(0, 4096), 'utf8');
  const p = Buffer.allocUnsafe(4 + text.byteLength);
  p.writeUInt32BE(code >>> 0, 0);
  text.copy(p, 4);
  return frame(FrameType.REFUSAL, p);
}

export function parseRefusal(p: Uint8Array): { code: number; details: string } {
  if (p.byteLength < 4) throw new FrameError('a REFUSAL frame shorter than its status code');
  const b = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  return { code: b.readUInt32BE(0), details: b.subarray(4).toString('utf8') };
}

/** A stream that breaks the frame rules. */
export class FrameError extends Error {}

/** Reads MAGIC off the front of a connection's bytes, in chunks cut anywhere (both ends open with it). */
export class MagicPrefix {
  private seen = 0;

  constructor(private readonly onComplete: () => void) {}

  /** Consume the magic's bytes at the front of `chunk`: where the frames begin in it. Throws a FrameError where the bytes are not the magic. */
  skip(chunk: Uint8Array): number {
    let at = 0;
    while (this.seen < MAGIC.byteLength && at < chunk.byteLength) {
      if (chunk[at++] !== MAGIC[this.seen++]) throw new FrameError('not a hand-off connection (no magic)');
      if (this.seen === MAGIC.byteLength) this.onComplete();
    }
    return at;
  }
}

/** What a FrameReader hands on. DATA payloads come in pieces (`data`), other frames whole (`frame`). */
export interface FrameSink {
  /** A frame's header is read; `type` and `length` are within the limits. */
  header(type: FrameType, length: number): void;
  /** Part of the current DATA frame's payload: a view of the connection's buffer, valid only during the call. */
  data(bytes: Uint8Array): void;
  /** A whole non-DATA frame: its payload (its own copy). */
  frame(type: FrameType, payload: Uint8Array): void;
}

/**
 * Cuts a byte stream into frames. DATA payloads are handed on as they arrive (the receiver copies them where they
 * go: no reassembly here); other payloads are collected up to their (small, or START's) limit.
 */
export class FrameReader {
  private head = Buffer.alloc(HEADER_BYTES);
  private headHave = 0;
  private type: FrameType | undefined;
  private left = 0;
  private body: Buffer | undefined;
  private bodyHave = 0;

  constructor(
    private readonly sink: FrameSink,
    /** Types this side accepts (a receiver: START, DATA, END; a sender: REPLY, REFUSAL). */
    private readonly accepts: readonly FrameType[],
  ) {}

  /** Between frames (nothing of a frame read yet). */
  idle(): boolean {
    return this.headHave === 0 && this.type === undefined;
  }

  /** Feed bytes; throws a FrameError at the first one that breaks the rules. */
  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.type === undefined) {
        const n = Math.min(HEADER_BYTES - this.headHave, chunk.byteLength - at);
        this.head.set(chunk.subarray(at, at + n), this.headHave);
        this.headHave += n;
        at += n;
        if (this.headHave < HEADER_BYTES) return;
        this.headHave = 0;
        const type = this.head[0]! as FrameType;
        const length = this.head.readUInt32BE(1);
        if (!this.accepts.includes(type)) throw new FrameError(`a frame of unknown or unexpected type ${type}`);
        if (length > limits[type]!) throw new FrameError(`a frame of type ${type} and ${length} bytes, over the limit of ${limits[type]}`);
        this.sink.header(type, length);
        this.type = type;
        this.left = length;
        if (type !== FrameType.DATA) {
          this.body = Buffer.allocUnsafe(length);
          this.bodyHave = 0;
        }
        if (length === 0) this.complete();
        continue;
      }
      const n = Math.min(this.left, chunk.byteLength - at);
      const part = chunk.subarray(at, at + n);
      at += n;
      this.left -= n;
      if (this.type === FrameType.DATA) this.sink.data(part);
      else {
        this.body!.set(part, this.bodyHave);
        this.bodyHave += n;
      }
      if (this.left === 0) this.complete();
    }
  }

  private complete(): void {
    const type = this.type!;
    const body = this.body;
    this.type = undefined;
    this.body = undefined;
    if (type !== FrameType.DATA) this.sink.frame(type, body ?? new Uint8Array(0));
  }
}
