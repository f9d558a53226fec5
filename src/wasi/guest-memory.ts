// Bounds-checked access to the guest's linear memory. Never caches memory.buffer: the guest may grow its
// memory between (and during) host calls, which detaches old buffers. Out-of-bounds access throws EFAULT.

import { Errno, WasiError } from './errno.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8enc = new TextEncoder();

export class GuestMemory {
  constructor(private readonly getMemory: () => WebAssembly.Memory) {}

  private buffer(): ArrayBuffer {
    return this.getMemory().buffer as ArrayBuffer;
  }

  private check(ptr: number, len: number): ArrayBuffer {
    const buf = this.buffer();
    if (!Number.isInteger(ptr) || !Number.isInteger(len) || ptr < 0 || len < 0 || ptr + len > buf.byteLength) {
      throw new WasiError(Errno.FAULT, `guest pointer ${ptr}+${len} out of bounds`);
    }
    return buf;
  }

  /** A live view of [ptr, ptr+len): valid only until the guest runs again or memory grows. */
  bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.check(ptr, len), ptr, len);
  }

  /** A copy of [ptr, ptr+len). */
  copyOut(ptr: number, len: number): Uint8Array {
    return this.bytes(ptr, len).slice();
  }

  write(ptr: number, data: Uint8Array): void {
    this.bytes(ptr, data.length).set(data);
  }

  u8(ptr: number): number { return new DataView(this.check(ptr, 1)).getUint8(ptr); }
  u16(ptr: number): number { return new DataView(this.check(ptr, 2)).getUint16(ptr, true); }
  u32(ptr: number): number { return new DataView(this.check(ptr, 4)).getUint32(ptr, true); }
  u64(ptr: number): bigint { return new DataView(this.check(ptr, 8)).getBigUint64(ptr, true); }

  setU8(ptr: number, v: number): void { new DataView(this.check(ptr, 1)).setUint8(ptr, v); }
  setU16(ptr: number, v: number): void { new DataView(this.check(ptr, 2)).setUint16(ptr, v, true); }
  setU32(ptr: number, v: number): void { new DataView(this.check(ptr, 4)).setUint32(ptr, v >>> 0, true); }
  setU64(ptr: number, v: bigint): void {
    new DataView(this.check(ptr, 8)).setBigUint64(ptr, BigInt.asUintN(64, v), true);
  }

  /** Zero-fill then let the caller fill a struct; checks the whole struct first so nothing is half-written. */
  zero(ptr: number, len: number): void {
    this.bytes(ptr, len).fill(0);
  }

  /** A UTF-8 string of exactly len bytes; invalid UTF-8 is EILSEQ as in wasmtime. */
  string(ptr: number, len: number): string {
    const bytes = this.bytes(ptr, len);
    try {
      return utf8.decode(bytes);
    } catch {
      throw new WasiError(Errno.ILSEQ, 'path is not valid UTF-8');
    }
  }

  /** The iovec array at ptr (n entries of {buf u32, len u32}) as [ptr, len] pairs, each bounds-checked. */
  iovecs(ptr: number, n: number): Array<[number, number]> {
    this.check(ptr, n * 8);
    const out: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      const buf = this.u32(ptr + i * 8);
      const len = this.u32(ptr + i * 8 + 4);
      this.check(buf, len);
      out.push([buf, len]);
    }
    return out;
  }
}

export function encodeUtf8(s: string): Uint8Array {
  return utf8enc.encode(s);
}
