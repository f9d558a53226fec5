// A synchronous channel whose handler fails: the caller gets an EIO answer and the channel goes on answering (a
// failure used to leave every later call waiting forever: the program thread blocked for good).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Errno } from '../wasi/errno.js';
import { serveSync, syncChannel } from './sync-worker.js';

test('a handler that throws is answered with EIO, and later calls are still answered', async () => {
  const { caller, served } = syncChannel();
  const stop = serveSync(served, async (r: { op: string; x?: number }) => {
    if (r.op === 'throw') throw new Error('boom');
    return { answer: { errno: 0, echo: r.x } };
  });
  const requests = [{ op: 'throw' }, { op: 'echo', x: 2 }];
  const thread = new Worker(new URL('../../test/support/sync-caller-thread.js', import.meta.url), {
    workerData: { port: caller.port, flag: caller.flag, requests },
    transferList: [caller.port],
  });
  const answers: unknown[] = [];
  thread.on('message', (a) => answers.push(a));
  let timer: NodeJS.Timeout | undefined;
  try {
    const ended = await Promise.race([
      once(thread, 'exit').then(() => 'exited'),
      new Promise((r) => (timer = setTimeout(() => r('timed out'), 10_000))),
    ]);
    assert.equal(ended, 'exited', `answers so far: ${JSON.stringify(answers)}`);
    assert.equal(answers.length, 2);
    const [failed, echoed] = answers as Array<{ errno: number; message?: string; echo?: number }>;
    assert.equal(failed!.errno, Errno.IO);
    assert.match(failed!.message!, /boom/);
    assert.deepEqual(echoed, { errno: 0, echo: 2 });
  } finally {
    clearTimeout(timer);
    await thread.terminate();
    stop();
  }
});
