// Test-only: the filesystem behaviour every FsBackend must give the guest (exact errno values, sandbox,
// state export/import), run against the in-memory backend here and the node:fs one in src/node.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Fdflags, Filetype, Oflags, Whence } from './constants.js';
import { Errno } from './errno.js';
import { Guest, R_READ, R_RW, R_WRITE } from './guest.testlib.js';
import type { FsBackend, WasiState } from './index.js';

const { CREAT, DIRECTORY, EXCL, TRUNC } = Oflags;

export interface BackendFixture {
  backend: FsBackend;
  cleanup?: () => void;
}

export function fsConformance(label: string, make: () => BackendFixture): void {
  describe(`WASI filesystem over ${label}`, () => {
    let fx: BackendFixture;
    let g: Guest;
    beforeEach(() => {
      fx = make();
      g = new Guest({ backend: fx.backend });
    });
    afterEach(() => fx.cleanup?.());

    const mkfile = (path: string, content: string, guest = g): void => {
      const { errno, fd } = guest.open(path, { oflags: CREAT | TRUNC, rights: R_WRITE });
      assert.equal(errno, 0, `create ${path}`);
      assert.equal(guest.write(fd, content).errno, 0);
      assert.equal(guest.close(fd), 0);
    };
    const cat = (path: string, guest = g): string => {
      const { errno, fd } = guest.open(path, { rights: R_READ });
      assert.equal(errno, 0, `open ${path}`);
      const { data } = guest.read(fd, 4096);
      guest.close(fd);
      return data;
    };
    const fresh = (): Guest => new Guest({ backend: fx.backend });
    const roundTrip = (s: WasiState): WasiState => JSON.parse(JSON.stringify(s)) as WasiState;

    it('creates, writes with several iovecs, seeks, reads back and stats a file', () => {
      const { errno, fd } = g.open('a.txt', { oflags: CREAT, rights: R_RW });
      assert.equal(errno, 0);
      assert.equal(fd, 4, 'lowest free fd after stdio and the preopen');
      assert.deepEqual(g.write(fd, 'hello ', 'world'), { errno: 0, n: 11 });
      assert.deepEqual(g.tell(fd), { errno: 0, pos: 11n });
      assert.deepEqual(g.seek(fd, -5n, Whence.CUR), { errno: 0, pos: 6n });
      assert.deepEqual(g.read(fd, 3, 10), { errno: 0, data: 'world' });
      assert.deepEqual(g.read(fd, 10), { errno: 0, data: '' }, 'end of file');
      assert.deepEqual(g.seek(fd, -3n, Whence.END), { errno: 0, pos: 8n });
      assert.equal(g.read(fd, 10).data, 'rld');
      const st = g.filestat(fd);
      assert.equal(st.errno, 0);
      assert.equal(st.size, 11n);
      assert.equal(st.filetype, Filetype.REGULAR_FILE);
      assert.equal(st.nlink, 1n);
      const ps = g.pathStat('a.txt');
      assert.equal(ps.ino, st.ino);
      assert.equal(g.close(fd), 0);
      assert.equal(g.close(fd), Errno.BADF);
    });

    it('pread/pwrite leave the offset alone', () => {
      mkfile('p.txt', '0123456789');
      const { fd } = g.open('p.txt', { rights: R_RW });
      assert.deepEqual(g.pread(fd, 3, 4n), { errno: 0, data: '456' });
      assert.deepEqual(g.pwrite(fd, 'AB', 2n), { errno: 0, n: 2 });
      assert.equal(g.tell(fd).pos, 0n);
      assert.equal(g.read(fd, 100).data, '01AB456789');
      assert.equal(g.pread(0, 1, 0n).errno, Errno.SPIPE, 'stdin');
      assert.equal(g.pwrite(1, 'x', 0n).errno, Errno.SPIPE, 'stdout');
    });

    it('gives the errno wasmtime gives for open failures', () => {
      mkfile('f', 'x');
      assert.equal(g.pathCall('path_create_directory', 'd'), 0);
      assert.equal(g.open('missing').errno, Errno.NOENT);
      assert.equal(g.open('missing/x', { oflags: CREAT }).errno, Errno.NOENT);
      assert.equal(g.open('f', { oflags: CREAT | EXCL }).errno, Errno.EXIST);
      assert.equal(g.open('f', { oflags: DIRECTORY, rights: R_READ }).errno, Errno.NOTDIR);
      assert.equal(g.open('f/x').errno, Errno.NOTDIR);
      assert.equal(g.open('f/', { rights: R_READ }).errno, Errno.NOTDIR);
      assert.equal(g.open('d', { rights: R_RW }).errno, Errno.ISDIR);
      assert.equal(g.open('d', { oflags: CREAT, rights: R_READ }).errno, Errno.ISDIR);
      assert.equal(g.open('d', { oflags: DIRECTORY | CREAT }).errno, Errno.INVAL);
      assert.equal(g.open('', { rights: R_READ }).errno, Errno.NOENT);
      assert.equal(g.open('x', { dirfd: 99 }).errno, Errno.BADF);
      assert.equal(g.open('x', { dirfd: 1 }).errno, Errno.BADF, 'stdout is not a directory');
      const f = g.open('f', { rights: R_READ }).fd;
      assert.equal(g.open('x', { dirfd: f }).errno, Errno.NOTDIR, 'a file as dirfd');
      const d = g.open('d', { oflags: DIRECTORY, rights: R_READ });
      assert.equal(d.errno, 0);
      assert.equal(g.fdstat(d.fd).filetype, Filetype.DIRECTORY);
      assert.equal(g.open('.', { rights: R_READ }).errno, 0, '"." opens the preopen itself');
    });

    it('enforces the open mode: EBADF on writing a read-only fd and reading a write-only one', () => {
      mkfile('m', 'abc');
      const r = g.open('m', { rights: R_READ }).fd;
      const w = g.open('m', { rights: R_WRITE }).fd;
      assert.equal(g.write(r, 'x').errno, Errno.BADF);
      assert.equal(g.read(w, 10).errno, Errno.BADF);
      assert.equal(g.w.fd_filestat_set_size!(r, 0n), Errno.BADF);
      assert.equal(g.fdstat(r).rightsBase & (1n << 6n), 0n, 'no FD_WRITE right reported');
      assert.notEqual(g.fdstat(w).rightsBase & (1n << 6n), 0n);
      assert.equal(cat('m'), 'abc');
    });

    it('O_TRUNC empties, O_APPEND appends whatever the offset, fd_fdstat_set_flags toggles append', () => {
      mkfile('t', 'long content');
      const t = g.open('t', { oflags: TRUNC, rights: R_WRITE }).fd;
      assert.equal(g.filestat(t).size, 0n);
      g.write(t, 'abc');
      const a = g.open('t', { fdflags: Fdflags.APPEND, rights: R_RW }).fd;
      assert.equal(g.fdstat(a).flags & Fdflags.APPEND, Fdflags.APPEND);
      g.seek(a, 0n, Whence.SET);
      g.write(a, 'def');
      assert.equal(g.tell(a).pos, 6n, 'offset moves to the end after an append');
      assert.equal(g.w.fd_fdstat_set_flags!(a, 0), 0);
      g.seek(a, 0n, Whence.SET);
      g.write(a, 'X');
      assert.equal(cat('t'), 'Xbcdef');
      assert.equal(g.w.fd_fdstat_set_flags!(a, Fdflags.SYNC), Errno.INVAL);
      assert.equal(g.w.fd_fdstat_set_flags!(1, Fdflags.APPEND), Errno.BADF, 'stdout');
    });

    it('seek errors: negative offset, bad whence, directory, stdio', () => {
      mkfile('s', 'abc');
      const f = g.open('s', { rights: R_READ }).fd;
      assert.equal(g.seek(f, -1n, Whence.SET).errno, Errno.INVAL);
      assert.equal(g.seek(f, -4n, Whence.END).errno, Errno.INVAL);
      assert.equal(g.seek(f, 0n, 7).errno, Errno.INVAL);
      assert.equal(g.tell(f).pos, 0n, 'a failed seek does not move');
      assert.equal(g.seek(3, 0n, Whence.SET).errno, Errno.BADF);
      assert.equal(g.seek(1, 0n, Whence.SET).errno, Errno.SPIPE);
      assert.equal(g.tell(0).errno, Errno.SPIPE);
      assert.equal(g.seek(f, 100n, Whence.SET).pos, 100n, 'seeking past the end is fine');
    });

    it('directories: create, remove, errno for each misuse', () => {
      assert.equal(g.pathCall('path_create_directory', 'd'), 0);
      assert.equal(g.pathCall('path_create_directory', 'd'), Errno.EXIST);
      assert.equal(g.pathCall('path_create_directory', 'd/e/f'), Errno.NOENT);
      assert.equal(g.pathCall('path_create_directory', 'd/e/'), 0);
      mkfile('d/file', 'x');
      assert.equal(g.pathCall('path_remove_directory', 'd'), Errno.NOTEMPTY);
      assert.equal(g.pathCall('path_remove_directory', 'd/file'), Errno.NOTDIR);
      assert.equal(g.pathCall('path_remove_directory', 'nope'), Errno.NOENT);
      assert.equal(g.pathCall('path_unlink_file', 'd/e'), Errno.ISDIR);
      assert.equal(g.pathCall('path_unlink_file', 'd/nope'), Errno.NOENT);
      assert.equal(g.pathCall('path_unlink_file', 'd/file/'), Errno.NOTDIR);
      assert.equal(g.pathCall('path_unlink_file', 'd/file'), 0);
      assert.equal(g.pathCall('path_remove_directory', 'd/e'), 0);
      assert.equal(g.pathCall('path_remove_directory', 'd'), 0);
      assert.equal(g.pathStat('d').errno, Errno.NOENT);
      assert.equal(g.pathCall('path_create_directory', 'x', 1), Errno.BADF, 'stdout as dirfd');
    });

    it('keeps every path inside its preopen: .., absolute paths, symlinks out → ENOTCAPABLE', () => {
      assert.equal(g.pathCall('path_create_directory', 'sub'), 0);
      mkfile('sub/in', 'inside');
      assert.equal(g.open('../etc/passwd', { rights: R_READ }).errno, Errno.NOTCAPABLE);
      assert.equal(g.open('/etc/passwd', { rights: R_READ }).errno, Errno.NOTCAPABLE);
      assert.equal(g.open('sub/../../x', { oflags: CREAT }).errno, Errno.NOTCAPABLE);
      assert.equal(g.open('sub/../sub/in', { rights: R_READ }).errno, 0, '.. inside the preopen is fine');
      assert.equal(g.pathStat('..').errno, Errno.NOTCAPABLE);
      assert.equal(g.pathCall('path_create_directory', '../out'), Errno.NOTCAPABLE);
      assert.equal(g.pathCall('path_unlink_file', '../x'), Errno.NOTCAPABLE);
      // A directory fd is its own capability: it cannot climb to its parent either.
      const sub = g.open('sub', { oflags: DIRECTORY, rights: R_READ }).fd;
      assert.equal(g.open('in', { dirfd: sub, rights: R_READ }).errno, 0);
      assert.equal(g.open('../sub/in', { dirfd: sub, rights: R_READ }).errno, Errno.NOTCAPABLE);
      // Symlinks the guest creates: absolute targets refused, escaping ones refused when followed.
      assert.equal(g.symlink('/etc/passwd', 'abs'), Errno.NOTCAPABLE);
      assert.equal(g.symlink('../../../etc/passwd', 'up'), 0);
      assert.equal(g.open('up', { rights: R_READ }).errno, Errno.NOTCAPABLE);
      assert.equal(g.pathStat('up').errno, Errno.NOTCAPABLE);
      assert.equal(g.pathStat('up', false).filetype, Filetype.SYMBOLIC_LINK, 'the link itself can be stat-ed');
      assert.equal(g.symlink('..', 'sub/parent'), 0);
      assert.equal(g.open('sub/parent/sub/in', { rights: R_READ }).errno, 0, 'a link staying inside works');
      assert.equal(g.open('parent/x', { dirfd: sub, oflags: CREAT }).errno, Errno.NOTCAPABLE, 'but not past the dirfd');
      assert.equal(g.pathCall('path_create_directory', 'up/x'), Errno.NOTCAPABLE);
      assert.equal(g.rename('sub/in', 'up/in'), Errno.NOTCAPABLE);
    });

    it('symlinks: follow flags, ELOOP, readlink, hard links', () => {
      mkfile('target', 'T');
      assert.equal(g.symlink('target', 'ln'), 0);
      assert.equal(g.symlink('target', 'ln'), Errno.EXIST);
      assert.equal(cat('ln'), 'T');
      assert.equal(g.open('ln', { rights: R_READ, follow: false }).errno, Errno.LOOP);
      assert.equal(g.open('ln', { rights: R_READ, follow: false, oflags: DIRECTORY }).errno, Errno.NOTDIR);
      assert.deepEqual(g.readlink('ln'), { errno: 0, target: 'target' });
      assert.deepEqual(g.readlink('ln', 3), { errno: 0, target: 'tar' }, 'truncated to the buffer');
      assert.equal(g.readlink('target').errno, Errno.INVAL);
      assert.equal(g.readlink('nope').errno, Errno.NOENT);
      assert.equal(g.pathStat('ln', true).filetype, Filetype.REGULAR_FILE);
      assert.equal(g.pathStat('ln', false).filetype, Filetype.SYMBOLIC_LINK);
      assert.equal(g.symlink('loop2', 'loop1'), 0);
      assert.equal(g.symlink('loop1', 'loop2'), 0);
      assert.equal(g.open('loop1', { rights: R_READ }).errno, Errno.LOOP);
      assert.equal(g.symlink('nowhere', 'dangling'), 0);
      assert.equal(g.open('dangling', { rights: R_READ }).errno, Errno.NOENT);
      assert.equal(g.pathCall('path_unlink_file', 'ln'), 0, 'unlink removes the link, not the target');
      assert.equal(cat('target'), 'T');
      assert.equal(g.link('target', 'hard'), 0);
      assert.equal(g.pathStat('target').nlink, 2n);
      assert.equal(g.pathStat('hard').ino, g.pathStat('target').ino);
      assert.equal(g.link('target', 'hard'), Errno.EXIST);
      assert.equal(g.link('nope', 'x'), Errno.NOENT);
      g.pathCall('path_create_directory', 'dd');
      assert.equal(g.link('dd', 'dd2'), Errno.PERM);
    });

    it('renames files and directories with POSIX errno, and open fds follow the move', () => {
      mkfile('a', 'A');
      mkfile('b', 'B');
      const fd = g.open('a', { rights: R_RW }).fd;
      assert.equal(g.rename('a', 'b'), 0, 'replaces b');
      assert.equal(cat('b'), 'A');
      assert.equal(g.pathStat('a').errno, Errno.NOENT);
      assert.equal(g.rename('a', 'c'), Errno.NOENT);
      g.pathCall('path_create_directory', 'd1');
      g.pathCall('path_create_directory', 'd2');
      mkfile('d2/x', 'x');
      assert.equal(g.rename('d1', 'd2'), Errno.NOTEMPTY);
      assert.equal(g.rename('b', 'd1'), Errno.ISDIR);
      assert.equal(g.rename('d1', 'b'), Errno.NOTDIR);
      assert.equal(g.rename('d2', 'd2/inner'), Errno.INVAL);
      assert.equal(g.rename('b', 'd2/b'), 0);
      assert.equal(g.rename('d2', 'd3'), 0);
      assert.equal(g.host.migrationBlocker(), null, 'the open fd still names its file');
      const s = g.host.exportState();
      const fileState = s.fds.find((f) => f.fd === fd)!.desc;
      assert.equal((fileState as { path: string }).path, 'd3/b');
    });

    it('fd_readdir: ".", "..", sorted entries, cookies, and truncation as wasmtime', () => {
      g.pathCall('path_create_directory', 'dir');
      for (const n of ['c', 'a', 'b']) mkfile(`dir/${n}`, n);
      g.pathCall('path_create_directory', 'dir/sub');
      const d = g.open('dir', { oflags: DIRECTORY, rights: R_READ }).fd;
      const all = g.readdir(d, 0n);
      assert.deepEqual(all.entries.map((e) => e.name), ['.', '..', 'a', 'b', 'c', 'sub']);
      assert.deepEqual(all.entries.map((e) => e.next), [1n, 2n, 3n, 4n, 5n, 6n]);
      assert.equal(all.entries[5]!.type, Filetype.DIRECTORY);
      assert.equal(all.entries[2]!.type, Filetype.REGULAR_FILE);
      assert.equal(all.entries[2]!.ino, g.pathStat('dir/a').ino);
      assert.equal(all.used, 6 * 24 + 1 + 2 + 1 + 1 + 1 + 3);
      assert.deepEqual(g.readdir(d, 3n).entries.map((e) => e.name), ['b', 'c', 'sub'], 'cookie n skips n entries');
      assert.deepEqual(g.readdir(d, 6n), { errno: 0, used: 0, entries: [] });
      assert.deepEqual(g.readdir(d, 100n), { errno: 0, used: 0, entries: [] });
      const small = g.readdir(d, 0n, 30);
      assert.equal(small.used, 30, 'a full buffer reports buf_len');
      assert.deepEqual(small.entries.map((e) => e.name), ['.']);
      assert.deepEqual(g.listDir(d, 40), ['.', '..', 'a', 'b', 'c', 'sub'], 'libc-style loop with tiny buffers');
      assert.equal(g.readdir(4 + 100, 0n).errno, Errno.BADF);
      const f = g.open('dir/a', { rights: R_READ }).fd;
      assert.equal(g.readdir(f, 0n).errno, Errno.NOTDIR, 'a regular file is not a directory (POSIX, wasmtime)');
      assert.equal(g.readdir(3, 0n).entries.some((e) => e.name === 'dir'), true, 'the preopen lists too');
    });

    it('exports mid-file and a fresh host continues at the same offset (through JSON)', () => {
      const a = g;
      const fd = a.open('log.txt', { oflags: CREAT, rights: R_RW }).fd;
      a.write(fd, 'hello ');
      mkfile('in.txt', '0123456789');
      const r = a.open('in.txt', { rights: R_READ }).fd;
      assert.equal(a.read(r, 4).data, '0123');
      assert.equal(a.host.migrationBlocker(), null);
      const state = roundTrip(a.host.exportState());
      const b = fresh();
      b.host.importState(state);
      assert.deepEqual(b.write(fd, 'world'), { errno: 0, n: 5 });
      assert.equal(b.tell(fd).pos, 11n);
      assert.equal(b.read(r, 3).data, '456');
      assert.equal(cat('log.txt', b), 'hello world');
      assert.equal(b.fdstat(3).filetype, Filetype.DIRECTORY, 'the preopen is still fd 3');
      assert.equal(b.open('x', { oflags: CREAT }).fd, 6, 'new fds go after the imported ones');
      const noWrite = b.open('in.txt', { rights: R_READ }).fd;
      const s2 = roundTrip(b.host.exportState());
      const c = fresh();
      c.host.importState(s2);
      assert.equal(c.write(noWrite, 'x').errno, Errno.BADF, 'the open mode travels');
    });

    it('a directory cursor continues on the new host', () => {
      g.pathCall('path_create_directory', 'dir');
      for (const n of ['e1', 'e2', 'e3', 'e4']) mkfile(`dir/${n}`, n);
      const d = g.open('dir', { oflags: DIRECTORY, rights: R_READ }).fd;
      const first = g.readdir(d, 0n, 24 * 4 + 1 + 2 + 2 + 2);
      assert.deepEqual(first.entries.map((e) => e.name), ['.', '..', 'e1', 'e2']);
      const cookie = first.entries.at(-1)!.next;
      const state = roundTrip(g.host.exportState());
      const dirState = state.fds.find((f) => f.fd === d)!.desc as { cursor: string; path: string };
      assert.equal(dirState.cursor, '4');
      assert.equal(dirState.path, 'dir');
      const b = fresh();
      b.host.importState(state);
      assert.deepEqual(b.readdir(d, cookie).entries.map((e) => e.name), ['e3', 'e4']);
    });

    it('O_APPEND from two hosts interleaves without overwriting', () => {
      mkfile('shared.log', '');
      const b = fresh();
      const fa = g.open('shared.log', { fdflags: Fdflags.APPEND, rights: R_WRITE }).fd;
      const fb = b.open('shared.log', { fdflags: Fdflags.APPEND, rights: R_WRITE }).fd;
      g.write(fa, 'A1 ');
      b.write(fb, 'B1 ');
      g.write(fa, 'A2 ');
      const c = fresh();
      c.host.importState(roundTrip(g.host.exportState()));
      b.write(fb, 'B2 ');
      c.write(fa, 'A3');
      assert.equal(cat('shared.log'), 'A1 B1 A2 B2 A3');
    });

    it('refuses to export an fd whose file was deleted, and names it', () => {
      mkfile('gone', 'x');
      const fd = g.open('gone', { rights: R_RW }).fd;
      assert.equal(g.pathCall('path_unlink_file', 'gone'), 0);
      assert.equal(g.write(fd, 'still works').errno, 0, 'an unlinked open file is still usable');
      const why = g.host.migrationBlocker();
      assert.match(why ?? '', new RegExp(`^fd ${fd}: .*gone`));
      assert.throws(() => g.host.exportState(), /gone/);
      g.close(fd);
      assert.equal(g.host.migrationBlocker(), null);
    });

    it('an import that cannot reopen a file fails whole and leaves the host as it was', () => {
      mkfile('f1', 'x');
      const fd = g.open('f1', { rights: R_READ }).fd;
      const state = roundTrip(g.host.exportState());
      g.close(fd);
      g.pathCall('path_unlink_file', 'f1');
      const b = fresh();
      assert.throws(() => b.host.importState(state), /fd 4: cannot reopen file "f1"/);
      assert.equal(b.fdstat(3).filetype, Filetype.DIRECTORY, 'the old table survives');
      assert.equal(b.fdstat(4).errno, Errno.BADF);
      const wrongPreopens = new Guest({ preopens: [{ guestPath: '/other', backend: fx.backend }] });
      assert.throws(() => wrongPreopens.host.importState(roundTrip(g.host.exportState())), /preopens/);
    });

    it('fd_filestat_set_size and set_times', () => {
      mkfile('z', 'abcdef');
      const fd = g.open('z', { rights: R_RW }).fd;
      assert.equal(g.w.fd_filestat_set_size!(fd, 3n), 0);
      assert.equal(g.filestat(fd).size, 3n);
      assert.equal(g.w.fd_filestat_set_size!(fd, 5n), 0);
      assert.equal(g.read(fd, 10).data, 'abc\0\0');
      const t = 1_600_000_000_000_000_000n;
      assert.equal(g.w.fd_filestat_set_times!(fd, t, t + 1_000_000_000n, 1 | 4), 0);
      assert.equal(g.filestat(fd).mtim, t + 1_000_000_000n);
      assert.equal(g.filestat(fd).atim, t);
      assert.equal(g.w.fd_filestat_set_times!(fd, 0n, 0n, 1 | 2), Errno.INVAL, 'ATIM with ATIM_NOW');
      const [p, l] = g.str('z');
      assert.equal(g.w.path_filestat_set_times!(3, 1, p, l, 0n, t, 4), 0);
      assert.equal(g.pathStat('z').mtim, t);
      assert.equal(g.pathStat('z').atim, t, 'atime kept when not asked');
      assert.equal(g.w.fd_filestat_set_times!(1, 0n, 0n, 2), Errno.BADF, 'stdout');
    });

    it('fd_renumber moves a descriptor and closes the target; the target must be open (as wasmtime)', () => {
      mkfile('r1', 'one');
      mkfile('r2', 'two');
      const a = g.open('r1', { rights: R_READ }).fd;
      const b = g.open('r2', { rights: R_READ }).fd;
      assert.equal(g.w.fd_renumber!(a, b), 0);
      assert.equal(g.read(b, 10).data, 'one');
      assert.equal(g.read(a, 10).errno, Errno.BADF);
      assert.equal(g.w.fd_renumber!(a, b), Errno.BADF);
      assert.equal(g.w.fd_renumber!(b, 40), Errno.BADF);
      assert.equal(g.read(b, 10).data, '', 'a refused renumber leaves the source open');
      const c = g.open('r2', { rights: R_READ }).fd;
      assert.equal(g.w.fd_renumber!(c, 0), 0, 'onto stdin, which is open');
      const s = roundTrip(g.host.exportState());
      assert.ok(s.fds.some((f) => f.fd === 0 && f.desc.kind === 'file'));
    });

    it('file-only calls on the wrong kinds of fd', () => {
      mkfile('k', 'k');
      const f = g.open('k', { rights: R_RW }).fd;
      assert.equal(g.w.fd_sync!(f), 0);
      assert.equal(g.w.fd_datasync!(f), 0);
      assert.equal(g.w.fd_sync!(3), Errno.BADF);
      assert.equal(g.w.fd_advise!(f, 0n, 0n, 1), 0);
      assert.equal(g.w.fd_advise!(f, 0n, 0n, 9), Errno.INVAL);
      assert.equal(g.w.fd_advise!(f, 1n << 63n, 0n, 1), Errno.INVAL, 'an offset at 2^63 (negative for loff_t)');
      assert.equal(g.w.fd_advise!(f, 0n, (1n << 64n) - 1n, 1), Errno.INVAL, 'a length past 2^63');
      assert.equal(g.w.fd_advise!(f, (1n << 63n) - 1n, 1n, 1), 0, 'the largest offset is advice like any other');
      assert.equal(g.w.fd_advise!(1, 0n, 0n, 1), Errno.BADF);
      assert.equal(g.w.fd_allocate!(f, 0n, 10n), Errno.NOTSUP);
      assert.equal(g.w.fd_allocate!(3, 0n, 10n), Errno.BADF);
      assert.equal(g.w.fd_fdstat_set_rights!(f, 0n, 0n), 0);
      assert.equal(g.w.fd_fdstat_set_rights!(1, 0n, 0n), Errno.BADF);
      assert.equal(g.read(3, 10).errno, Errno.BADF, 'reading a directory');
      assert.equal(g.write(3, 'x').errno, Errno.BADF);
    });
  });
}
