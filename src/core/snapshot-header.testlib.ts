// The snapshot header the core's unit tests encode: a program that entered `f` on edge from cloud, one global, a
// one-page unwind area. Tests change what they check with `overrides`.
import { PAGE_SIZE, type SnapshotInput } from './snapshot.js';

type Header = SnapshotInput['header'];

export function testHeader(overrides: Partial<Header> = {}): Header {
  return {
    moduleSha256: 'cd'.repeat(32),
    node: 'edge',
    migration: { from: 'cloud', to: 'edge', reason: 'enter', fn: 'f' },
    migrationStack: { depth: 1, frames: [{ from: 'cloud', to: 'edge', fn: 'f', depth: 1 }] },
    globals: [{ type: 'i32', value: 65536 }],
    unwindArea: { ptr: 3 * PAGE_SIZE, size: PAGE_SIZE },
    wasi: { fds: [1, 2, 3] },
    resources: {},
    systemCalls: 3,
    createdBy: 'test',
    ...overrides,
  };
}
