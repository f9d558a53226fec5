// A node's program worker (src/serve/program-worker.ts) set up as a test's node (the first, "cloud", unless told): no mounts, no
// models, the default transfer, quiet logs. Tests that drive one worker directly, without a `kafu serve` around it.
import { readFileSync } from 'node:fs';
import { DEFAULT_LIMITS } from '../../src/core/snapshot.js';
import { NO_NN_CONFIG } from '../../src/node/node-nn.js';
import { ProgramWorker, type WorkerEvent } from '../../src/serve/program-worker.js';

export function startTestWorker(
  wasm: string,
  onEvent: (e: WorkerEvent) => void,
  { node = 'cloud', logLevel = 'error', args = [] as string[] } = {},
): ProgramWorker {
  return new ProgramWorker(
    {
      node,
      moduleBytes: new Uint8Array(readFileSync(wasm)),
      where: wasm,
      args,
      env: [],
      mounts: [],
      nn: NO_NN_CONFIG,
      transfer: { delta: true, compression: true, limits: DEFAULT_LIMITS },
      logLevel,
      logPrefix: '',
    },
    onEvent,
  );
}
