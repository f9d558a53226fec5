// The page comparison of a delta transfer (transfer.ts) in WebAssembly with 128-bit SIMD: it finds the words in which
// a 64 KiB page differs from another and writes them as a sparse record payload, about twice as fast as the best
// typed-array loop V8 runs, copies in and out included. Source: page-diff.wat; WASM is its binary as binaryen builds
// it (page-diff.test.ts builds it again and compares). Standard WebAssembly only.
import { PAGE_SIZE } from './snapshot.js';

export const WASM =
  'AGFzbQEAAAABBwFgAn9/AX8DAgEABQQBAQQEBxECBm1lbW9yeQIABGRpZmYAAAquAQGrAQEFf0GAgAxBAEGAEPwLAANAIAL9AAQAIAAgAmr9AAQA' +
  '/VH9UwRAIAJBEGohAwNAIAIoAgAgACACaigCAHMhBCAEBEAgBiABRgRAQX8PCyACQQJ2IQUgBUEDdiAFQQN2LQCAgAxBASAFQQdxdHI6AICADCAG' +
  'QQJ0IAQ2AoCQDCAGQQFqIQYLIAJBBGohAiACIANJDQALBSACQRBqIQILIAJBgIAESQ0ACyAGCw==';

/** Where page-diff.wat keeps the two pages, a zero page and the payload (a bitmap of BITMAP bytes, then words). */
const [PAGE, OTHER, ZERO, PAYLOAD] = [0, PAGE_SIZE, 2 * PAGE_SIZE, 3 * PAGE_SIZE];
export const BITMAP = PAGE_SIZE >> 5;

export class PageDiff {
  private readonly memory: Uint8Array;
  private readonly run: (other: number, max: number) => number;

  constructor() {
    const bytes = Uint8Array.from(atob(WASM), (c) => c.charCodeAt(0));
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    this.memory = new Uint8Array((exports.memory as WebAssembly.Memory).buffer);
    this.run = exports.diff as (other: number, max: number) => number;
  }

  /**
   * Compare `page` with `other` (with zeros where there is none): returns the number of 32-bit words that differ,
   * or -1 as soon as more than `max` do. payload(k) then holds them.
   */
  diff(page: Uint8Array, other: Uint8Array | undefined, max: number): number {
    this.memory.set(page, PAGE);
    if (other) this.memory.set(other, OTHER);
    return this.run(other ? OTHER : ZERO, max);
  }

  /**
   * The sparse payload of the last diff(), with its k words: a bitmap with bit (w & 7) of byte (w >> 3) set for each
   * word w that differs, then those words of the page XOR the other, in order. A view, valid until the next diff().
   */
  payload(k: number): Uint8Array {
    return this.memory.subarray(PAYLOAD, PAYLOAD + BITMAP + 4 * k);
  }
}
