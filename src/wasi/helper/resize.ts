// Exact resize with a triangle (bilinear) filter, bit for bit as the Rust `image` crate's
// `imageops::resize(img, w, h, FilterType::Triangle)` (0.25, which the original Kafu's image_to_tensor uses):
// a vertical pass into f32 samples, then a horizontal pass that clamps and rounds to u8. All arithmetic in f32
// (Math.fround at every step, no fused multiply-add), so results match Rust's to the last bit.

const f = Math.fround;

/** An 8-bit image, `channels` interleaved samples per pixel, rows top to bottom. */
export interface Image8 {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

const triangle = (x: number): number => {
  const a = Math.abs(x);
  return a < 1 ? f(1 - a) : 0;
};

/** For each output index: the first input index and the normalised weights (the crate's per-row `ws`). */
function weights(inSize: number, outSize: number): Array<{ left: number; ws: number[] }> {
  const ratio = f(inSize / outSize);
  const sratio = ratio < 1 ? 1 : ratio;
  const support = f(1 * sratio);
  const out: Array<{ left: number; ws: number[] }> = [];
  for (let o = 0; o < outSize; o++) {
    const center = f(f(o + 0.5) * ratio);
    const left = Math.min(Math.max(Math.floor(f(center - support)), 0), inSize - 1);
    const right = Math.min(Math.max(Math.ceil(f(center + support)), left + 1), inSize);
    const c = f(center - 0.5);
    const ws: number[] = [];
    let sum = 0;
    for (let i = left; i < right; i++) {
      const w = triangle(f(f(i - c) / sratio));
      ws.push(w);
      sum = f(sum + w);
    }
    out.push({ left, ws: ws.map((w) => f(w / sum)) });
  }
  return out;
}

export function resizeTriangle(img: Image8, width: number, height: number): Image8 {
  const { channels: ch, data } = img;
  if (img.width === width && img.height === height) return { ...img, data: data.slice() };
  // Vertical pass: height changes, samples stay f32.
  const tmp = new Float32Array(img.width * height * ch);
  for (const [y, { left, ws }] of weights(img.height, height).entries()) {
    for (let x = 0; x < img.width; x++) {
      for (let k = 0; k < ch; k++) {
        let t = 0;
        for (let i = 0; i < ws.length; i++) t = f(t + f(data[((left + i) * img.width + x) * ch + k]! * ws[i]!));
        tmp[(y * img.width + x) * ch + k] = t;
      }
    }
  }
  // Horizontal pass: width changes; clamp to [0, 255] and round half away from zero, as the crate does.
  const out = new Uint8Array(width * height * ch);
  for (const [x, { left, ws }] of weights(img.width, width).entries()) {
    for (let y = 0; y < height; y++) {
      for (let k = 0; k < ch; k++) {
        let t = 0;
        for (let i = 0; i < ws.length; i++) t = f(t + f(tmp[(y * img.width + left + i) * ch + k]! * ws[i]!));
        out[(y * width + x) * ch + k] = Math.round(Math.min(Math.max(t, 0), 255));
      }
    }
  }
  return { width, height, channels: ch, data: out };
}
