// Kafu's WASI preview1 library OS: state that can be exported and imported, no node: imports.

export { WasiHost, WasiExit } from './host.js';
export type { WasiOptions, Preopen, WasiClocks } from './options.js';
export type { WasiState, DescriptorState } from './state.js';
export { parseWasiState } from './state.js';
export { StateRefused } from './state-refused.js';
export type { FsBackend, FsStat, FsKind, FsOpenFlags, FsHandle } from './fs-backend.js';
export { FsError } from './fs-backend.js';
export { MemoryFsBackend } from './memory-fs.js';
export { Errno } from './errno.js';
