// Former defects of the library OS (test/programs/wasi/gaps.c), each pinned to what a correct WASI host gives.
// Each was `todo` until src/ was fixed; a new gap goes here as a `todo` test the same way.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { observable, runForced } from '../support/forced.js';

const SOURCE = 'test/programs/wasi/gaps.c';
const T = { timeout: 120_000 };

describe('library OS gaps', { concurrency: 1 }, () => {
  test(
    'a file created with openat() under an opened directory can be written',
    T,
    async () => {
      const r = await runForced([SOURCE], { every: 1, args: ['openat-write'] });
      assert.equal(r.plain.stdout, 'openat O_CREAT|O_WRONLY: 1\nwrite: 3\nopenat O_RDWR write: 1\nftruncate: 0\ncontent [Xb]\n');
      assert.deepEqual(observable(r.migrating), observable(r.plain));
    },
  );

  test(
    'path_* and fd_readdir relative to a regular file fail with ENOTDIR',
    T,
    async () => {
      const r = await runForced([SOURCE], { every: 1, args: ['notdir'] });
      const calls = ['path_open', 'path_filestat_get', 'path_filestat_set_times', 'path_create_directory',
        'path_remove_directory', 'path_unlink_file', 'path_readlink', 'path_symlink', 'path_rename', 'path_link', 'fd_readdir'];
      assert.equal(r.plain.stdout, calls.map((c) => `${c}: ENOTDIR\n`).join(''));
      assert.deepEqual(observable(r.migrating), observable(r.plain));
    },
  );

  // A native host keeps the nanoseconds (…123456789, …987654321); node:fs cannot set them (libuv truncates to the
  // microsecond), so the Node backend keeps exactly the microsecond: a documented deviation (src/node/fs-backend.ts).
  test(
    'file times keep their microseconds (node:fs cannot set nanoseconds)',
    T,
    async () => {
      const r = await runForced([SOURCE], { every: 1, args: ['times-ns'] });
      const t = 'atime 1234567890.123456000 mtime 1300000000.987654000\n';
      assert.equal(r.plain.stdout, `futimens: 0\n${t}utimensat: 0\n${t}`);
      assert.deepEqual(observable(r.migrating), observable(r.plain));
    },
  );

  test('a listing continued by cookie after removals and additions returns untouched entries once (no migration)', T, async () => {
    const r = await runForced([SOURCE], { every: 1, args: ['readdir-mutate'] });
    assert.equal(
      r.plain.stdout,
      'after removing listed entries, f4..f9 each seen once: yes\nafter adding entries, f0..f9 each seen once: yes\n',
    );
  });

  test(
    '… and the same when the program migrates between two fd_readdir calls',
    T,
    async () => {
      const r = await runForced([SOURCE], { every: 1, args: ['readdir-mutate'] });
      assert.deepEqual(observable(r.migrating), observable(r.plain));
    },
  );
});
