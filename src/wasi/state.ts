// The exported library-OS state: plain JSON (bigints as decimal strings), versioned.

import type { DescriptorState } from './descriptor.js';

export const WASI_STATE_VERSION = 1;

export interface WasiState {
  version: typeof WASI_STATE_VERSION;
  args: string[];
  env: string[];
  /** Guest paths of the preopens, in order, so an import can check it got equivalent options. */
  preopens: string[];
  fds: Array<{ fd: number; desc: DescriptorState }>;
  /** The guest's monotonic clock at export (ns, decimal): it continues from here, never runs backwards. */
  monotonicNs: string;
}
