// The `kafu_helper` import object of the original Kafu: image_to_tensor(path, pathlen, height, width, out,
// &nwritten) → kafu_error (same numbers as wasi-nn's). Unlike the original, which opens any host path, the path
// is the program's own: resolved by the library OS inside its mounts.
import { Errno, errnoOf } from '../errno.js';
import type { GuestMemory } from '../guest-memory.js';
import { nnCall, type NnLog } from '../nn/abi.js';
import { nnFail } from '../nn/types.js';
import { imageToTensor } from './image-tensor.js';
import type { Image8 } from './resize.js';

export interface HelperOptions {
  /** A whole file by guest path (WasiHost.readFile). */
  readFile(guestPath: string, maxBytes: number): Uint8Array;
  /** JPEG or PNG bytes to 8-bit samples; throws an Error for anything else. */
  decodeImage(bytes: Uint8Array): Image8;
}

const MAX_IMAGE_FILE = 256 * 1024 * 1024;
const MAX_SIDE = 16384;

export function createHelperImports(mem: GuestMemory, opts: HelperOptions, log: NnLog): Record<string, (...args: number[]) => number> {
  return {
    image_to_tensor: (path, pathLen, height, width, out, nwritten) =>
      nnCall(log, 'image_to_tensor', () => {
        const [h, w] = [height >>> 0, width >>> 0];
        if (h === 0 || w === 0 || h > MAX_SIDE || w > MAX_SIDE) nnFail('invalid_argument', `size ${w}x${h}`);
        if ((pathLen >>> 0) > 4096) nnFail('invalid_argument', 'path longer than 4096 bytes');
        const p = mem.string(path >>> 0, pathLen >>> 0);
        mem.bytes(out >>> 0, h * w * 12);
        mem.bytes(nwritten >>> 0, 4);
        let file: Uint8Array;
        try {
          file = opts.readFile(p, MAX_IMAGE_FILE);
        } catch (e) {
          const errno = errnoOf(e);
          if (errno === undefined) throw e;
          return nnFail(errno === Errno.NOENT ? 'not_found' : 'invalid_argument', `${p}: ${(e as Error).message}`);
        }
        let img: Image8;
        try {
          img = opts.decodeImage(file);
        } catch (e) {
          return nnFail('invalid_encoding', `${p}: not a JPEG or PNG image this host decodes: ${(e as Error).message}`);
        }
        const tensor = imageToTensor(img, h, w);
        mem.write(out >>> 0, tensor);
        mem.setU32(nwritten >>> 0, tensor.byteLength);
      }),
  };
}
