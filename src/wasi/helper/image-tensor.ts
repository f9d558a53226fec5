// kafu_helper.image_to_tensor's computation, as in the original Kafu: resize exactly to width × height (triangle
// filter), take RGB, then planar NCHW float32 with ImageNet normalisation (v/255 − mean[c]) / std[c], in f32.
import { resizeTriangle, type Image8 } from './resize.js';

const MEAN = [0.485, 0.456, 0.406].map(Math.fround);
const STD = [0.229, 0.224, 0.225].map(Math.fround);

/** Little-endian float32 bytes, 3 × height × width of them. */
export function imageToTensor(img: Image8, height: number, width: number): Uint8Array {
  const rgb = toRgb(resizeTriangle(img, width, height));
  const plane = width * height;
  const out = new DataView(new ArrayBuffer(3 * plane * 4));
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = Math.fround(Math.fround(rgb[p * 3 + c]! / 255) - MEAN[c]!);
      out.setFloat32((c * plane + p) * 4, v / STD[c]!, true);
    }
  }
  return new Uint8Array(out.buffer);
}

/** The crate's to_rgb8: grey is repeated, alpha dropped (resizing happened in the source's own channels). */
function toRgb(img: Image8): Uint8Array {
  const { channels: ch, data } = img;
  if (ch === 3) return data;
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    if (ch >= 3) {
      out.set(data.subarray(p * ch, p * ch + 3), p * 3);
    } else {
      out.fill(data[p * ch]!, p * 3, p * 3 + 3);
    }
  }
  return out;
}
