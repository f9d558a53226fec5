// The helper thread that holds a process's host sockets when the program runs on the process's main thread (`kafu
// run`, `kafu singlenode`): the program's socket calls wait on it synchronously (sync-worker.ts, local-sockets.ts).
import { workerData } from 'node:worker_threads';
import { errnoFromCode } from '../wasi/errno.js';
import { NetSockets } from './net-sockets.js';
import type { HelperRequest } from './local-sockets.js';
import { serveSync, type SyncWorkerData } from './sync-worker.js';

const net = new NetSockets();

serveSync(workerData as SyncWorkerData, async (req: HelperRequest, blobs) => {
  if (req.op === 'listen') {
    try {
      return { answer: { errno: 0, id: await net.listen(req.address, req.port) } };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      return { answer: { errno: errnoFromCode(code), message: code } };
    }
  }
  // One process holds them all for the program's whole run: none is ever opened again under another handle.
  if (req.op === 'listeners') return { answer: { errno: 0, listeners: [] } };
  if (req.op === 'closeAll') {
    await net.closeAll(req.graceMs);
    return { answer: { errno: 0 } };
  }
  const { result, data } = await net.handle(req, blobs[0]);
  return { answer: result, blobs: data ? [data] : [] };
});
