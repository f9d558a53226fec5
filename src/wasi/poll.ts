// poll_oneoff on plain values: file and stdio subscriptions are always ready (reads and writes never block
// for long on them, as in wasmtime); sockets are asked of the host, which waits on them (sockets.ts); when nothing
// is ready, the call sleeps until the earliest clock subscription (or waits that long on the sockets).
// The sleep is synchronous (wasm imports are): Atomics.wait on a private SharedArrayBuffer.

import { ClockId, EventType, EVENT_FD_READWRITE_HANGUP } from './constants.js';
import { Errno, fail } from './errno.js';
import { SocketDescriptor } from './fd-socket.js';
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
  const sockets: Array<{ sub: Subscription; d: SocketDescriptor }> = [];
  for (const sub of subs) {
    if (sub.type === EventType.CLOCK) {
      if (sub.clockId !== ClockId.REALTIME && sub.clockId !== ClockId.MONOTONIC) fail(Errno.INVAL, `cannot wait on clock ${sub.clockId}`);
      const remaining = sub.abstime ? sub.timeout - os.clockTime(sub.clockId) : sub.timeout;
      clocks.push({ sub, remaining: remaining < 0n ? 0n : remaining });
    } else {
      const d = os.get(sub.fd);
      if (d instanceof SocketDescriptor) {
        if (d.lost) ready.push({ userdata: sub.userdata, error: Errno.CONNRESET, type: sub.type, nbytes: 0n, flags: 0 });
        else sockets.push({ sub, d });
      } else if (sub.type === EventType.FD_READ) {
        const r = d.pollReadable();
        ready.push({ userdata: sub.userdata, error: 0, type: sub.type, nbytes: r.nbytes, flags: r.hangup ? EVENT_FD_READWRITE_HANGUP : 0 });
      } else {
        const w = d.pollWritable();
        ready.push({ userdata: sub.userdata, error: 0, type: sub.type, nbytes: w.nbytes, flags: 0 });
      }
    }
  }
  const min = clocks.length === 0 ? null : clocks.reduce((m, c) => (c.remaining < m ? c.remaining : m), clocks[0]!.remaining);
  if (sockets.length > 0) {
    // Something else is ready: only look at the sockets. Otherwise wait on them until the earliest clock.
    const states = os.sockets!.poll(sockets.map(({ sub, d }) => ({ ref: d.ref, write: sub.type === EventType.FD_WRITE })), ready.length > 0 ? 0n : min);
    sockets.forEach(({ sub }, i) => {
      const r = states[i];
      if (!r || (!r.ready && r.errno === 0)) return;
      const flags = r.hangup && sub.type === EventType.FD_READ ? EVENT_FD_READWRITE_HANGUP : 0;
      ready.push({ userdata: sub.userdata, error: r.errno, type: sub.type, nbytes: BigInt(r.nbytes), flags });
    });
    if (ready.length > 0 || min === null) return ready;
  } else {
    if (ready.length > 0) return ready;
    sleep(min!);
  }
  return clocks
    .filter((c) => c.remaining <= min!)
    .map((c) => ({ userdata: c.sub.userdata, error: 0, type: EventType.CLOCK, nbytes: 0n, flags: 0 }));
}
