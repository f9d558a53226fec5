// The monotonic clock across a migration between hosts whose clocks differ: the guest's clock continues from
// where it was on the source, never going backwards, and advances with the destination's clock; realtime is the
// destination's wall clock. (In singlenode both "nodes" share one clock, so the C test cannot show this.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryFsBackend, WasiHost } from '../../src/wasi/index.js';

function host(clock: { mono: bigint; real: bigint }): { wasi: WasiHost; read: (id: number) => bigint } {
  const wasi = new WasiHost({
    args: ['p'],
    env: [],
    preopens: [{ guestPath: '/', backend: new MemoryFsBackend() }],
    stdout: () => {},
    stderr: () => {},
    clocks: { monotonicNs: () => clock.mono, realtimeNs: () => clock.real },
  });
  const memory = new WebAssembly.Memory({ initial: 1 });
  wasi.setMemory(memory);
  const imports = wasi.imports();
  return {
    wasi,
    read: (id) => {
      assert.equal(imports.clock_time_get!(id, 1n, 64), 0);
      return new DataView(memory.buffer).getBigUint64(64, true);
    },
  };
}

test('monotonic continues across hosts whose clocks differ, in both directions', () => {
  const cloudClock = { mono: 5_000_000_000_000n, real: 1_800_000_000_000_000_000n };
  const edgeClock = { mono: 1_000n, real: 1_800_000_000_500_000_000n };
  const cloud = host(cloudClock);
  assert.equal(cloud.read(1), 5_000_000_000_000n);
  cloudClock.mono += 7n;
  const state = JSON.parse(JSON.stringify(cloud.wasi.exportState()));

  const edge = host(edgeClock);
  edge.wasi.importState(state);
  const first = edge.read(1);
  assert.ok(first >= 5_000_000_000_007n, `edge's first reading ${first} is before cloud's last`);
  edgeClock.mono += 1_000_000n;
  assert.equal(edge.read(1) - first, 1_000_000n, 'advances with the destination clock');
  assert.equal(edge.read(0), edgeClock.real, 'realtime is the destination wall clock');

  // Back to a host whose clock is far ahead: no jump backwards, no offset left over from before.
  const state2 = JSON.parse(JSON.stringify(edge.wasi.exportState()));
  const last = edge.read(1);
  const fogClock = { mono: 9_000_000_000_000n, real: 0n };
  const fog = host(fogClock);
  fog.wasi.importState(state2);
  const there = fog.read(1);
  assert.ok(there >= last);
  assert.equal(there, 9_000_000_000_000n, 'a host already ahead adds no offset');
});
