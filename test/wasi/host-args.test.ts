// Guest values no host API takes as they are (test/programs/wasi/host_args.c): offsets at and past 2^53 and 2^63,
// iovecs over 2 GiB, exit statuses of 126 and up. Each is refused or cut as Linux and wasmtime do, with nothing
// written; none may crash the host (a node.js RangeError), wrap, or write at the current position instead.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildWasm, repoRoot } from '../support/build.js';
import { freshDir, observable, runForced, runPlainModule } from '../support/forced.js';

const SOURCE = 'test/programs/wasi/host_args.c';
const T = { timeout: 180_000 };

describe('WASI arguments a host API cannot represent', { concurrency: 1 }, () => {
  // The expected output is wasmtime 49's on Linux (ext4), byte for byte.
  test('offsets ≥ 2^53 and ≥ 2^63 for fd_pwrite, fd_pread, lseek + write and fd_filestat_set_size: EFBIG/EINVAL, nothing written', T, async () => {
    const r = await runForced([SOURCE], { every: 1, args: ['offsets'] });
    assert.equal(r.plain.stdout, readFileSync(join(repoRoot, 'test/programs/wasi/host_args_offsets.expected'), 'utf8'));
    assert.equal(r.plain.exitCode, 0);
    assert.deepEqual(r.plain.files, { 'big.txt': 'ab' });
    assert.deepEqual(observable(r.migrating), observable(r.plain));
  });

  // Plain only: a 2 GiB memory is the snapshot benchmark's business (bench/big-memory.ts), not a unit test's.
  test('a read into iovecs of more than 2 GiB is a short read, not a host exception', T, async () => {
    const wasm = await buildWasm({ sources: [SOURCE], args: ['-O1', '-Wl,--max-memory=4294967296'], instrument: false });
    const dir = await freshDir();
    const r = await runPlainModule(wasm, dir, { args: ['rw-caps'] }).finally(() => rm(dir, { recursive: true, force: true }));
    assert.equal(r.stdout, 'write: 3\nfd_pread 2 GiB + 16: OK n=3 [abc]\nfd_read 2 GiB + 16: OK n=2 [bc]\n');
    assert.equal(r.exitCode, 0);
  });

  // wasmtime 49 reads 2^64 - 1 ns back changed; the library OS keeps what the program set (src/wasi/exact-times.ts).
  test('file times up to 2^64 - 1 ns are kept exactly, also across migrations', T, async () => {
    const r = await runForced([SOURCE], { every: 1, args: ['times'] });
    assert.equal(r.plain.stdout, ['2^62', '2^63', '2^64-1', '1'].map((t) => `set_times ${t} ns: OK mtim exact\n`).join(''));
    assert.deepEqual(observable(r.migrating), observable(r.plain));
  });

  test('proc_exit(256) is an error (a trap, exit 134) as in wasmtime, not exit 0', T, async () => {
    const r = await runForced([SOURCE], { every: 1, args: ['exit-256'] });
    assert.equal(r.plain.stdout, 'exiting with 256\n');
    assert.equal(r.plain.exitCode, 134);
    assert.deepEqual(observable(r.migrating), observable(r.plain));
    assert.ok(
      r.migrating.logs.some((l) => /^Program trapped on \S+: proc_exit\(256\): an exit status must be below 126/.test(l)),
      r.migrating.logs.join('\n'),
    );
  });
});
