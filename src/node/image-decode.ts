// kafu_helper's image decoding on Node: JPEG (jpeg-js) and PNG (pngjs), pure JavaScript, to 8-bit samples.
// Loaded at the first image (synchronously: WASI calls are), so that no kafu process pays for them at start.
import { createRequire } from 'node:module';
import type * as Jpeg from 'jpeg-js';
import type * as Png from 'pngjs';
import type { Image8 } from '../wasi/helper/resize.js';

const require = createRequire(import.meta.url);
let decoders: { jpeg: typeof Jpeg; png: typeof Png } | undefined;
const load = () => (decoders ??= { jpeg: require('jpeg-js') as typeof Jpeg, png: require('pngjs') as typeof Png });

/** The largest image decoded, in pixels (as jpeg-js's maxResolutionInMP): a few bytes can declare any size. */
export const MAX_IMAGE_PIXELS = 100_000_000;

export function decodeImage(bytes: Uint8Array): Image8 {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const img = load().jpeg.decode(buf, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: 100, maxMemoryUsageInMB: 1024 });
    const channels = img.data.length / (img.width * img.height);
    return { width: img.width, height: img.height, channels, data: img.data };
  }
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    // The size is in IHDR, the first chunk (at byte 16), before any pixel: pngjs would allocate what it says.
    if (bytes.length >= 24) {
      const [width, height] = [buf.readUInt32BE(16), buf.readUInt32BE(20)];
      if (width * height > MAX_IMAGE_PIXELS) {
        throw new Error(`a PNG of ${width}×${height} pixels is over the limit of ${MAX_IMAGE_PIXELS / 1e6} million`);
      }
    }
    // pngjs gives RGBA for every colour type (grey repeated, alpha 255 where there is none); 16-bit samples are
    // scaled to 8 bits before resizing.
    const png = load().png.PNG.sync.read(buf);
    return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  }
  throw new Error('neither JPEG nor PNG');
}
