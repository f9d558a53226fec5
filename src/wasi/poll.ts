// poll_oneoff on plain values: file and stdio subscriptions are always ready (reads and writes never block
// for long on them, as in wasmtime); when none is, the call sleeps until the earliest clock subscription.
// The sleep is synchronous (wasm imports are): Atomics.wait on a private SharedArrayBuffer.

import { ClockId, EventType, EVENT_FD_READWRITE_HANGUP } from './constants.js';
import { Errno, fail } from './errno.js';
import type { WasiOs } from './wasi-os.js';

export type Subscription =
  | { userdata: bigint; type: typeof EventType.CLOCK; clockId: number; timeout: bigint; abstime: boolean }
  | { userdata: bigint; type: typeof EventType.FD_READ | typeof EventType.FD_WRITE; fd: number };

export interface PollEvent {
  userdata: bigint;
  error: number;
  type: number;
  nbytes: bigint;
  flags: number;
}

let sleepCell: Int32Array | null = null;

export function sleepNs(ns: bigint): void {
  if (ns <= 0n) return;
  const ms = Number(ns) / 1e6;
  try {
    sleepCell ??= new Int32Array(new SharedArrayBuffer(4));
    Atomics.wait(sleepCell, 0, 0, ms);
  } catch {
    // Atomics.wait is refused on a browser's main thread: spin instead.
    const end = performance.now() + ms;
    while (performance.now() < end) { /* wait */ }
  }
}

export function poll(os: WasiOs, subs: Subscription[], sleep: (ns: bigint) => void = sleepNs): PollEvent[] {
  if (subs.length === 0) fail(Errno.INVAL, 'poll_oneoff with no subscriptions would sleep forever');
  const ready: PollEvent[] = [];
  const clocks: Array<{ sub: Subscription; remaining: bigint }> = [];
  for (const sub of subs) {
    if (sub.type === EventType.CLOCK) {
      if (sub.clockId !== ClockId.REALTIME && sub.clockId !== ClockId.MONOTONIC) fail(Errno.INVAL, `cannot wait on clock ${sub.clockId}`);
      const remaining = sub.abstime ? sub.timeout - os.clockTime(sub.clockId) : sub.timeout;
      clocks.push({ sub, remaining: remaining < 0n ? 0n : remaining });
    } else {
      const d = os.get(sub.fd);
      if (sub.type === EventType.FD_READ) {
        const r = d.pollReadable();
        ready.push({ userdata: sub.userdata, error: 0, type: sub.type, nbytes: r.nbytes, flags: r.hangup ? EVENT_FD_READWRITE_HANGUP : 0 });
      } else {
        const w = d.pollWritable();
        ready.push({ userdata: sub.userdata, error: 0, type: sub.type, nbytes: w.nbytes, flags: 0 });
      }
    }
  }
  if (ready.length > 0) return ready;
  const min = clocks.reduce((m, c) => (c.remaining < m ? c.remaining : m), clocks[0]!.remaining);
  sleep(min);
  return clocks
    .filter((c) => c.remaining <= min)
    .map((c) => ({ userdata: c.sub.userdata, error: 0, type: EventType.CLOCK, nbytes: 0n, flags: 0 }));
}
