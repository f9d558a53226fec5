// A thread that makes synchronous calls (sync-worker.ts: SyncCaller) and posts their answers to its parent, so that a
// test can serve them on its own thread and stop waiting for answers that never come.
import { parentPort, workerData } from 'node:worker_threads';
import { SyncCaller } from '../../src/node/sync-worker.js';

const { port, flag, requests } = workerData as { port: import('node:worker_threads').MessagePort; flag: Int32Array; requests: unknown[] };
const caller = new SyncCaller(port, flag);
for (const r of requests) parentPort!.postMessage(caller.call(r).answer);
