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

  // A native host keeps the nanoseconds (…123456789, …987654321). node:fs cannot set them (libuv truncates to the
  // microsecond), so the library OS keeps what the program set (src/wasi/exact-times.ts), across migrations too.
  test(
    'file times keep their nanoseconds (kept by the library OS where the host stores microseconds)',
    T,
    async () => {
      const r = await runForced([SOURCE], { every: 1, args: ['times-ns'] });
      const t = 'atime 1234567890.123456789 mtime 1300000000.987654321\n';
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

  // wasmtime 49 reports a directory it opened with FD_READ (not FD_SEEK) and answers ENOTSUP to every
  // fd_fdstat_set_rights; here a directory holds neither, and rights can be dropped (never regained), which is refused
  // from then on, also after a migration. wasi-libc reports a write refused for a missing right as EBADF.
  test('rights: directories cannot read or seek, read-only files cannot write, fd_fdstat_set_rights only drops', T, async () => {
    const r = await runForced([SOURCE], { every: 1, args: ['rights'] });
    assert.equal(r.plain.stdout, "preopen: OK type 3 base 0x7b7fe00 inheriting 0xff7ffff\nopened directory: OK type 3 base 0xfb7ffb9 inheriting 0xff7ffff\nread a directory: -1 EBADF\nlseek a directory: -1 EBADF\nread-only file: OK type 4 base 0x3fffffbf inheriting 0x3fffffbf\nwrite-only file: OK type 4 base 0x3fffbffd inheriting 0x3fffbffd\nread-write file: OK type 4 base 0x3fffffff inheriting 0x3fffffff\ngrow a read-only file's rights: ENOTCAPABLE\nwrite after the grow: -1 EBADF\ndrop FD_WRITE: OK\nafter dropping: OK type 4 base 0x200026 inheriting 0\nwrite after the drop: -1 EBADF\nread after the drop: 0\nregrow FD_WRITE: ENOTCAPABLE\ndrop a directory's PATH_OPEN: OK\nopenat after the drop: -1 ENOTCAPABLE\ndrop FD_WRITE from what a directory passes on: OK\nopened for writing under it: OK type 4 base 0x3fffbfbd inheriting 0x3fffbfbd\nwrite through it: -1 EBADF\npath_open asking for FD_WRITE under it: ENOTCAPABLE\nread-only file under it: OK type 4 base 0x3fffffbf inheriting 0x3fffffbf\nfd_fdstat_set_rights on stdout: EBADF\n");
    assert.deepEqual(observable(r.migrating), observable(r.plain));
  });

  test('path_link and path_symlink to a new name with a trailing slash: ENOENT, nothing created (as Linux, wasmtime)', T, async () => {
    const r = await runForced([SOURCE], { every: 1, args: ['link-slash'] });
    assert.equal(r.plain.stdout, "path_link to \"n/\": ENOENT\npath_link from \"l.txt/\": ENOTDIR\npath_symlink to \"s/\": ENOENT\npath_symlink to \"l.txt/\" (exists): ENOTDIR\nn exists: 0, s exists: 0\n");
    assert.deepEqual(observable(r.migrating), observable(r.plain));
  });

  test('fd_renumber onto a closed number: EBADF, the source stays open (as wasmtime)', T, async () => {
    const r = await runForced([SOURCE], { every: 1, args: ['renumber'] });
    assert.equal(r.plain.stdout, "fd_renumber to closed 40: EBADF\nsource still open: 1\n40 not open: -1 EBADF\nfd_renumber to open: OK\nold number closed: -1 EBADF\nnew number writes x.txt: 1\nfd_renumber from closed: EBADF\n");
    assert.deepEqual(observable(r.migrating), observable(r.plain));
  });
});
