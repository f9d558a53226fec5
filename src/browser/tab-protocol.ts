// The messages between a browser node's bridge (serve/browser-bridge.ts, in its `kafu serve` process) and the tab
// that runs its program (browser/tab-worker.ts), over one WebSocket. Each message is one binary frame: a 4-byte
// little-endian length, that many bytes of JSON (the message), and the rest: the message's bytes (the module, a
// snapshot, output). Engine-neutral: both ends use this file. Every frame is checked here, against zod schemas and
// size limits, before either end acts on it; what the tab sends is hostile to the bridge.
import { z } from 'zod';

/** Most JSON bytes in one frame (the setup message, a trap's backtrace …). */
export const MAX_FRAME_JSON = 256 * 1024;
/** Most bytes of program output, or of a log line's text, in one frame from the tab. */
export const MAX_OUTPUT_BYTES = 1 << 20;

const nodeId = z.string().min(1).max(63);
const text = (max: number) => z.string().max(max);
const ms = z.number().finite().min(0);

/** Bridge → tab. */
export const toTabSchema = z.discriminatedUnion('type', [
  /** Bytes: the module. The first message on a connection. */
  z.strictObject({
    type: z.literal('setup'),
    node: nodeId,
    programName: text(4096),
    args: z.array(text(1 << 16)).max(4096),
    env: z.array(text(1 << 16)).max(4096),
    mounts: z.array(z.strictObject({ guest: text(4096), host: text(4096), mode: z.enum(['follow', 'node-local']) })).max(256),
    compression: z.union([z.boolean(), z.literal('deflate')]),
    /** cluster.migration.memory_migration: delta — send only the pages that differ from what the destination holds. */
    delta: z.boolean(),
    limits: z.strictObject({ maxMemoryBytes: z.number().int().min(0), maxStateBytes: z.number().int().min(0) }),
    forced: z.strictObject({ every: z.number().int().min(1), nodes: z.array(nodeId).max(4096) }).optional(),
    debug: z.boolean(),
  }),
  /** Bytes: a transfer (core/transfer.ts) to resume; `suspendedAtMs`: when the program stopped on the sender. */
  z.strictObject({ type: z.literal('resume'), suspendedAtMs: ms }),
  /** The run ended (the program finished elsewhere, or the cluster stopped): the page says so. */
  z.strictObject({ type: z.literal('ended'), message: text(4096) }),
]);
export type ToTab = z.output<typeof toTabSchema>;

/** Tab → bridge. Hostile: checked here, and against the bridge's state there. */
export const fromTabSchema = z.discriminatedUnion('type', [
  /** The module is compiled: hand-offs may come. */
  z.strictObject({ type: z.literal('ready') }),
  /** The snapshot resumed and the program runs here; `downtimeMs` from the sender's suspension (wall clock). */
  z.strictObject({ type: z.literal('resumed'), downtimeMs: z.number().finite() }),
  /**
   * The snapshot could not be restored; nothing of it ran. `wholeNeeded`: it counts on files this tab does not hold
   * (a tab that replaced another), and a whole snapshot, which carries them, will do.
   */
  z.strictObject({ type: z.literal('refused'), message: text(4096), wholeNeeded: z.boolean().optional() }),
  /** Bytes: program output on `fd`. */
  z.strictObject({ type: z.literal('output'), fd: z.union([z.literal(1), z.literal(2)]) }),
  /** A log line of the tab's (its own level and text). */
  z.strictObject({ type: z.literal('log'), line: text(4096) }),
  /**
   * Bytes: the program, stopped at a migration point, as a transfer for its destination: a delta against the last
   * hop's image when the destination was the other end of that hop (the bridge holds that image too), else whole
   * or against the module's initial image.
   */
  z.strictObject({ type: z.literal('suspended'), suspendedAtMs: ms, encodeMs: ms }),
  z.strictObject({ type: z.literal('exited'), code: z.number().int().min(0).max(255) }),
  z.strictObject({ type: z.literal('trapped'), message: text(4096), frames: z.array(text(1024)).max(256) }),
  z.strictObject({ type: z.literal('failed'), message: text(4096), user: z.boolean() }),
]);
export type FromTab = z.output<typeof fromTabSchema>;

export class FrameError extends Error {}

export function encodeFrame(message: ToTab | FromTab, bytes: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(message));
  const frame = new Uint8Array(4 + json.byteLength + bytes.byteLength);
  new DataView(frame.buffer).setUint32(0, json.byteLength, true);
  frame.set(json, 4);
  frame.set(bytes, 4 + json.byteLength);
  return frame;
}

/**
 * One frame, checked: its JSON against `schema`, its bytes against `maxBytes` (per message type). Throws a
 * FrameError naming what is wrong.
 */
export function decodeFrame<S extends z.ZodType>(
  frame: Uint8Array,
  schema: S,
  maxBytes: (message: z.output<S>) => number,
): { message: z.output<S>; bytes: Uint8Array } {
  if (frame.byteLength < 4) throw new FrameError(`a frame of ${frame.byteLength} bytes (shorter than its length field)`);
  const jsonLength = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0, true);
  if (jsonLength > MAX_FRAME_JSON || 4 + jsonLength > frame.byteLength) {
    throw new FrameError(`a frame whose message claims ${jsonLength} bytes (at most ${Math.min(MAX_FRAME_JSON, frame.byteLength - 4)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(4, 4 + jsonLength)));
  } catch {
    throw new FrameError('a frame whose message is not JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new FrameError(`a malformed message${i.path.length ? ` (${i.path.join('.')})` : ''}: ${i.message}`);
  }
  const message = parsed.data as z.output<S>;
  const bytes = frame.subarray(4 + jsonLength);
  const max = maxBytes(message);
  if (bytes.byteLength > max) {
    throw new FrameError(`a ${(message as { type: string }).type} message with ${bytes.byteLength} bytes (at most ${max})`);
  }
  return { message, bytes };
}
