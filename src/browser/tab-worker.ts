// A browser tab's Web Worker: the program's thread on a browser node. It connects to the node's bridge
// (serve/browser-bridge.ts) over a WebSocket, receives the module and then hand-offs, runs each stretch of the
// program on the engine-neutral core over the tab's in-memory library OS (tab-host.ts), and sends back the
// program's output and, at a migration point, the whole snapshot for the next node. It tells the page
// (tab-page.ts) what it is doing. The guest runs synchronously, so it lives here and not on the page's thread.
import { UserError } from '../core/errors.js';
import { GuestModule, INITIAL_BASELINE_ID } from '../core/guest.js';
import { runSegment, type ProgramHost } from '../core/program.js';
import { decodeTransfer, encodeTransfer, maxTransferBytes, type Baseline } from '../core/transfer.js';
import { asTrap, wasmBacktrace } from '../core/trap.js';
import { concat } from '../core/wasm-sections.js';
import { tabProgramHost } from './tab-host.js';
import { decodeFrame, encodeFrame, toTabSchema, type FromTab, type ToTab } from './tab-protocol.js';
import type { TabStatus } from './tab-status.js';
import { NodeStateLostError } from '../wasi/node-state-lost.js';

type Setup = Extract<ToTab, { type: 'setup' }>;

interface WorkerScope {
  postMessage(m: unknown): void;
  location: { href: string };
}
const scope = globalThis as unknown as WorkerScope;

const status: TabStatus = { state: 'connecting', node: '', hopsIn: 0, hopsOut: 0, lastError: '' };
const show = (change: Partial<TabStatus>) => {
  Object.assign(status, change);
  scope.postMessage(status);
};

let setup: Setup | undefined;
let guest: GuestModule | undefined;
let host: ProgramHost | undefined;
/**
 * The memory image of this tab's last hop (delta migrations), and the other end of that hop, which holds it too (as
 * does the bridge, which decodes every hop in and out of the tab).
 */
let baseline: Baseline | undefined;
let baselinePeer: string | undefined;

const send = (m: FromTab, bytes?: Uint8Array) => ws.send(encodeFrame(m, bytes));
let ws: WebSocket;
const wallClockMs = () => performance.timeOrigin + performance.now();

// The bridge's WebSocket, with the token the page gave this worker's URL.
const url = new URL('kafu', scope.location.href);
url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
url.search = `?token=${encodeURIComponent(new URL(scope.location.href).searchParams.get('token') ?? '')}`;
ws = new WebSocket(url);
ws.binaryType = 'arraybuffer';
ws.onmessage = (m) => void receive(m.data as ArrayBuffer).catch((err: Error) => show({ state: 'error', lastError: err.message }));
ws.onclose = (c) => {
  if (status.state !== 'ended') show({ state: 'disconnected', lastError: c.reason || status.lastError || `connection closed (code ${c.code})` });
};

async function receive(data: ArrayBuffer): Promise<void> {
  // Sizes: the module as big as a frame may be; a snapshot within the limits the bridge set (its own, checked again
  // by the decoder).
  const limit = (m: ToTab) => (m.type === 'setup' ? 1 << 30 : m.type === 'resume' && setup ? maxTransferBytes(setup.limits) : 0);
  const { message, bytes } = decodeFrame(new Uint8Array(data), toTabSchema, limit);
  if (message.type === 'setup') {
    setup = message;
    guest = await GuestModule.load(bytes.slice(), message.programName);
    guest.initialBaseline(); // built now, not on the first hop (a first hop here is a delta against it)
    host = tabProgramHost({
      programName: message.programName,
      args: message.args,
      env: message.env,
      mounts: message.mounts,
      stdout: (b) => send({ type: 'output', fd: 1 }, b),
      stderr: (b) => send({ type: 'output', fd: 2 }, b),
    });
    show({ state: 'waiting', node: message.node });
    send({ type: 'ready' });
  } else if (message.type === 'resume') {
    if (!setup || !guest || !host) throw new Error('a hand-off before the setup');
    run(setup, guest, host, bytes, message.suspendedAtMs);
  } else {
    show({ state: 'ended', lastError: message.message });
  }
}

/** One stretch of the program here: resume the hand-off, run until it ends or leaves, say which. */
function run(s: Setup, guest: GuestModule, host: ProgramHost, bytes: Uint8Array, suspendedAtMs: number): void {
  let decoded;
  try {
    const held = (id: string) => (baseline?.id === id ? baseline.memory : id === INITIAL_BASELINE_ID ? guest.initialBaseline().memory : undefined);
    decoded = decodeTransfer(bytes, held, s.limits);
  } catch (e) {
    return refuse(e);
  }
  baseline = s.delta ? decoded.baseline : undefined;
  baselinePeer = decoded.snapshot.header.migration?.from;
  let resumed = false;
  let result;
  try {
    result = runSegment(guest, s.node, host, {
      from: decoded.snapshot,
      forced: s.forced,
      onResumed: () => {
        resumed = true;
        send({ type: 'resumed', downtimeMs: wallClockMs() - suspendedAtMs });
        show({ state: 'running', hopsIn: status.hopsIn + 1 });
      },
    });
  } catch (e) {
    if (!resumed) return refuse(e);
    const trap = asTrap(e);
    const message = (e as Error).message;
    if (trap) send({ type: 'trapped', message, frames: wasmBacktrace(trap) });
    else send({ type: 'failed', message, user: e instanceof UserError });
    show({ state: 'waiting', lastError: message });
    return;
  }
  if (result.kind === 'exited') {
    send({ type: 'exited', code: result.code });
    show({ state: 'waiting' });
    return;
  }
  // A delta when the destination is the other end of the last hop; any other node gets one against the module's
  // initial image. The instance is not run again: the image it left with can be the next baseline as it is.
  const t0 = performance.now();
  const to = result.migration.to;
  const against = !s.delta ? undefined : baselinePeer === to ? baseline : guest.initialBaseline();
  const { chunks, baseline: next } = encodeTransfer(result.snapshot, { compression: s.compression, baseline: against });
  baseline = s.delta ? next : undefined;
  baselinePeer = to;
  const suspendedAt = performance.timeOrigin + result.suspendedAt;
  send({ type: 'suspended', suspendedAtMs: suspendedAt, encodeMs: performance.now() - t0 }, concat(chunks));
  show({ state: 'waiting', hopsOut: status.hopsOut + 1 });
}

function refuse(e: unknown): void {
  const message = (e as Error).message;
  baseline = undefined; // a delta may have changed its pages (the bridge drops its copy too)
  send({ type: 'refused', message, ...(e instanceof NodeStateLostError ? { wholeNeeded: true } : {}) });
  show({ lastError: `refused a hand-off: ${message}` });
}
