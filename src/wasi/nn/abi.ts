// The `wasi_ephemeral_nn` import object (witx ABI, as wasmtime and the original Kafu): decodes guest structs,
// calls NnOs, and turns failures into the API's error codes. A bad guest pointer is invalid_argument, never a trap.
import { WasiError } from '../errno.js';
import type { GuestMemory } from '../guest-memory.js';
import type { NnOs } from './nn-os.js';
import { NN_LIMITS } from './state.js';
import { NnErrno, NnError, TENSOR_TYPES, nnFail, type NnErrnoName, type NnTensor } from './types.js';

/** Told why a call failed (the guest only sees the code). */
export type NnLog = (errno: NnErrnoName, message: string) => void;

const u32 = (v: number): number => v >>> 0;
/** witx tensor: dimensions {ptr, len} @0, type u8 @8, data {ptr, len} @12. */
const TENSOR_SIZE = 20;
const MAX_BUILDERS = 16;
const MAX_NAME = 4096;

/** Runs `f` as one wasi-nn call: 0, or the error code (`log` is told why). Anything else is a bug and traps. */
export function nnCall(log: NnLog, call: string, f: () => void): number {
  try {
    f();
    return NnErrno.success;
  } catch (e) {
    if (e instanceof NnError) {
      log(e.errno, `${call}: ${e.errno}: ${e.message}`);
      return e.code;
    }
    if (e instanceof WasiError) {
      log('invalid_argument', `${call}: invalid_argument: ${e.message}`);
      return NnErrno.invalid_argument;
    }
    throw e;
  }
}

export function createNnImports(nn: NnOs, mem: GuestMemory, log: NnLog): Record<string, (...args: number[]) => number> {
  const str = (ptr: number, len: number, what: string): string => {
    if (u32(len) > MAX_NAME) nnFail('invalid_argument', `${what} longer than ${MAX_NAME} bytes`);
    return mem.string(u32(ptr), u32(len));
  };
  const tensorAt = (ptr: number): NnTensor => {
    mem.bytes(ptr, TENSOR_SIZE);
    const rank = mem.u32(ptr + 4);
    if (rank > NN_LIMITS.rank) nnFail('invalid_argument', `tensor rank ${rank} is over ${NN_LIMITS.rank}`);
    const dimsPtr = mem.u32(ptr);
    mem.bytes(dimsPtr, rank * 4);
    const dims = Array.from({ length: rank }, (_, i) => mem.u32(dimsPtr + i * 4));
    const type = TENSOR_TYPES[mem.u8(ptr + 8)] ?? nnFail('invalid_argument', `unknown tensor type ${mem.u8(ptr + 8)}`);
    return { type, dims, data: mem.bytes(mem.u32(ptr + 12), mem.u32(ptr + 16)) };
  };
  return {
    load: (builders, n, encoding, target, out) =>
      nnCall(log, 'load', () => {
        if (u32(n) > MAX_BUILDERS) nnFail('invalid_argument', `${u32(n)} graph builders`);
        mem.bytes(u32(out), 4);
        const parts = mem.iovecs(u32(builders), u32(n)).map(([p, l]) => mem.bytes(p, l));
        mem.setU32(u32(out), nn.load(parts, u32(encoding), u32(target)));
      }),
    load_by_name: (name, len, out) =>
      nnCall(log, 'load_by_name', () => {
        mem.bytes(u32(out), 4);
        mem.setU32(u32(out), nn.loadByName(str(name, len, 'name')));
      }),
    load_by_name_with_config: (name, len, config, configLen, out) =>
      nnCall(log, 'load_by_name_with_config', () => {
        mem.bytes(u32(out), 4);
        mem.setU32(u32(out), nn.loadByName(str(name, len, 'name'), str(config, configLen, 'config')));
      }),
    init_execution_context: (graph, out) =>
      nnCall(log, 'init_execution_context', () => {
        mem.bytes(u32(out), 4);
        mem.setU32(u32(out), nn.initExecutionContext(u32(graph)));
      }),
    set_input: (ctx, index, tensor) => nnCall(log, 'set_input', () => nn.setInput(u32(ctx), u32(index), tensorAt(u32(tensor)))),
    compute: (ctx) => nnCall(log, 'compute', () => nn.compute(u32(ctx))),
    get_output: (ctx, index, buf, max, out) =>
      nnCall(log, 'get_output', () => {
        mem.bytes(u32(buf), u32(max));
        mem.bytes(u32(out), 4);
        const data = nn.getOutput(u32(ctx), u32(index), u32(max));
        mem.write(u32(buf), data);
        mem.setU32(u32(out), data.byteLength);
      }),
  };
}
