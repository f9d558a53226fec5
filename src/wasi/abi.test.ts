import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from './errno.js';
import { Guest, R_RW } from './guest.testlib.js';
import { MemoryFsBackend, WasiExit, WasiHost } from './index.js';

const PREVIEW1 = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
  'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek',
  'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times',
  'path_link', 'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
  'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get', 'sock_accept',
  'sock_recv', 'sock_send', 'sock_shutdown',
];

function fakeClocks(mono: { ns: bigint }, real = 1_700_000_000_000_000_000n) {
  return { realtimeNs: () => real, monotonicNs: () => mono.ns };
}

describe('WASI ABI', () => {
  it('provides every wasi_snapshot_preview1 function and nothing else', () => {
    const g = new Guest({});
    assert.deepEqual(Object.keys(g.w).sort(), [...PREVIEW1].sort());
  });

  it('args and environ: sizes, pointers, NUL-terminated UTF-8', () => {
    const g = new Guest({ args: ['prog', 'héllo', ''], env: ['A=1', 'KEY=VALUE=x'] });
    const c = g.alloc(4);
    const s = g.alloc(4);
    assert.equal(g.w.args_sizes_get!(c, s), 0);
    assert.equal(g.u32(c), 3);
    assert.equal(g.u32(s), 5 + 7 + 1);
    const argv = g.alloc(12);
    const buf = g.alloc(13);
    assert.equal(g.w.args_get!(argv, buf), 0);
    assert.equal(g.u32(argv), buf);
    assert.equal(g.text(g.u32(argv + 4), 6), 'héllo');
    assert.equal(g.bytes[g.u32(argv + 4) + 6], 0);
    assert.equal(g.u32(argv + 8), buf + 12);
    assert.equal(g.w.environ_sizes_get!(c, s), 0);
    assert.deepEqual([g.u32(c), g.u32(s)], [2, 4 + 12]);
    const envp = g.alloc(8);
    const ebuf = g.alloc(16);
    assert.equal(g.w.environ_get!(envp, ebuf), 0);
    assert.equal(g.text(g.u32(envp + 4), 11), 'KEY=VALUE=x');
  });

  it('clocks: injected sources, resolution, unsupported CPU clocks', () => {
    const mono = { ns: 5_000n };
    const g = new Guest({ clocks: fakeClocks(mono) });
    const out = g.alloc(8);
    assert.equal(g.w.clock_time_get!(0, 1n, out), 0);
    assert.equal(g.u64(out), 1_700_000_000_000_000_000n);
    assert.equal(g.w.clock_time_get!(1, 1n, out), 0);
    assert.equal(g.u64(out), 5_000n);
    assert.equal(g.w.clock_res_get!(1, out), 0);
    assert.ok(g.u64(out) > 0n);
    assert.equal(g.w.clock_time_get!(2, 1n, out), Errno.BADF);
    assert.equal(g.w.clock_time_get!(9, 1n, out), Errno.INVAL);
    const real = new Guest({});
    assert.equal(real.w.clock_time_get!(0, 1n, out), 0);
    const now = BigInt(Date.now()) * 1_000_000n;
    const got = real.u64(out);
    assert.ok(got > now - 5_000_000_000n && got < now + 5_000_000_000n, 'default realtime is wall-clock time');
  });

  it('the monotonic clock never runs backwards across an export/import', () => {
    const mono = { ns: 9_000_000_000n };
    const a = new Guest({ clocks: fakeClocks(mono) });
    const state = JSON.parse(JSON.stringify(a.host.exportState()));
    const monoB = { ns: 1_000n }; // a machine that booted recently
    const b = new Guest({ clocks: fakeClocks(monoB) });
    b.host.importState(state);
    const out = b.alloc(8);
    b.w.clock_time_get!(1, 1n, out);
    assert.equal(b.u64(out), 9_000_000_000n);
    monoB.ns += 500n;
    b.w.clock_time_get!(1, 1n, out);
    assert.equal(b.u64(out), 9_000_000_500n);
  });

  it('random_get fills exactly the buffer from the random source', () => {
    const g = new Guest({ randomFill: (b) => b.fill(7) });
    const p = g.alloc(16);
    assert.equal(g.w.random_get!(p, 10), 0);
    assert.deepEqual([...g.bytes.slice(p, p + 11)], [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0]);
    const d = new Guest({});
    const q = d.alloc(100_000);
    assert.equal(d.w.random_get!(q, 100_000), 0, 'more than one getRandomValues call');
    assert.ok(d.bytes.slice(q + 90_000, q + 100_000).some((x) => x !== 0));
  });

  it('stdout/stderr/stdin', () => {
    const chunks = [new TextEncoder().encode('line1\n'), new TextEncoder().encode('xy')];
    const g = new Guest({ stdin: (max) => { const c = chunks.shift(); return c ? c.subarray(0, max) : null; } });
    assert.deepEqual(g.write(1, 'out ', 'put'), { errno: 0, n: 7 });
    assert.deepEqual(g.write(2, 'err'), { errno: 0, n: 3 });
    assert.deepEqual(g.out, ['out put']);
    assert.deepEqual(g.err, ['err']);
    assert.deepEqual(g.read(0, 3, 100), { errno: 0, data: 'line1\n' });
    assert.deepEqual(g.read(0, 100), { errno: 0, data: 'xy' });
    assert.deepEqual(g.read(0, 100), { errno: 0, data: '' }, 'EOF');
    assert.equal(g.read(1, 10).errno, Errno.BADF);
    assert.equal(g.write(0, 'x').errno, Errno.BADF);
    assert.equal(g.fdstat(1).filetype, 2, 'character device, so libc line-buffers');
    assert.equal(new Guest({}).read(0, 10).data, '', 'no stdin callback is EOF');
  });

  it('stdio descriptors travel by kind, bound to the new host', () => {
    const a = new Guest({});
    a.w.fd_renumber!(1, 2);
    const b = new Guest({});
    b.host.importState(JSON.parse(JSON.stringify(a.host.exportState())));
    b.write(2, 'to b');
    assert.deepEqual(b.out, ['to b']);
    assert.deepEqual(a.out, []);
    assert.equal(b.write(1, 'x').errno, Errno.BADF);
  });

  it('preopens: fd_prestat_get and fd_prestat_dir_name', () => {
    const fs1 = new MemoryFsBackend();
    const g = new Guest({ preopens: [{ guestPath: '/', backend: fs1 }, { guestPath: '/data', backend: new MemoryFsBackend() }] });
    const out = g.alloc(8);
    assert.equal(g.w.fd_prestat_get!(4, out), 0);
    assert.equal(g.bytes[out], 0);
    assert.equal(g.u32(out + 4), 5);
    const name = g.alloc(8);
    assert.equal(g.w.fd_prestat_dir_name!(4, name, 5), 0);
    assert.equal(g.text(name, 5), '/data');
    assert.equal(g.w.fd_prestat_dir_name!(4, name, 4), Errno.NAMETOOLONG);
    assert.equal(g.w.fd_prestat_get!(5, out), Errno.BADF);
    assert.equal(g.w.fd_prestat_get!(1, out), Errno.BADF);
    const sub = g.open('.', { rights: 0n });
    assert.equal(g.w.fd_prestat_get!(sub.fd, out), Errno.BADF);
    assert.equal(g.w.fd_prestat_dir_name!(sub.fd, name, 8), Errno.NOTDIR);
    assert.equal(g.rename('x', 'y', 3, 4), Errno.NOENT);
    fs1.writeFile('x', 'x');
    assert.equal(g.rename('x', 'y', 3, 4), Errno.XDEV);
  });

  it('out-of-bounds guest pointers are EFAULT and change nothing', () => {
    const fs = new MemoryFsBackend();
    fs.writeFile('f', 'abc');
    const g = new Guest({ backend: fs });
    const end = g.memory.buffer.byteLength;
    const [p, l] = g.str('f');
    assert.equal(g.w.path_open!(3, 1, p, l, 0, R_RW, R_RW, 0, end - 2), Errno.FAULT);
    assert.equal(g.w.path_open!(3, 1, end - 1, 5, 0, R_RW, R_RW, 0, 16), Errno.FAULT);
    assert.equal(g.w.path_open!(3, 1, -8, 5, 0, R_RW, R_RW, 0, 16), Errno.FAULT, 'negative i32 = huge u32');
    assert.equal(g.fdstat(4).errno, Errno.BADF, 'no fd was opened by the failed calls');
    const iov = g.alloc(8);
    g.view.setUint32(iov, end - 4, true);
    g.view.setUint32(iov + 4, 100, true);
    assert.equal(g.w.fd_write!(1, iov, 1, 16), Errno.FAULT);
    assert.equal(g.w.fd_write!(1, end - 4, 1, 16), Errno.FAULT);
    assert.equal(g.w.args_get!(end, end), Errno.FAULT);
    assert.equal(g.w.clock_time_get!(0, 0n, end - 4), Errno.FAULT);
    assert.equal(g.w.fd_readdir!(3, end - 10, 100, 0n, 16), Errno.FAULT);
    assert.equal(g.w.random_get!(end - 1, 2), Errno.FAULT);
    assert.equal(g.w.poll_oneoff!(end - 8, 16, 1, 16), Errno.FAULT);
    const fd = g.open('f', { rights: R_RW }).fd;
    assert.equal(g.w.fd_seek!(fd, 2n, 0, end), Errno.FAULT);
    assert.equal(g.tell(fd).pos, 0n, 'the failed seek did not move the offset');
    assert.deepEqual(g.out, []);
  });

  it('sees memory growth between calls (never caches the buffer)', () => {
    const g = new Guest({});
    const before = g.memory.buffer.byteLength;
    g.memory.grow(1);
    const p = before + 100;
    const out = before + 200;
    new Uint8Array(g.memory.buffer).set(new TextEncoder().encode('grown'), p);
    const v = new DataView(g.memory.buffer);
    v.setUint32(before, p, true);
    v.setUint32(before + 4, 5, true);
    assert.equal(g.w.fd_write!(1, before, 1, out), 0);
    assert.equal(new DataView(g.memory.buffer).getUint32(out, true), 5);
    assert.deepEqual(g.out, ['grown']);
  });

  it('a host call before setMemory traps with a clear message rather than corrupting anything', () => {
    const fresh = new WasiHost({ args: [], env: [], preopens: [], stdout: () => {}, stderr: () => {} });
    assert.throws(() => fresh.imports().fd_write!(1, 0, 0, 0), /setMemory/);
  });

  it('poll_oneoff: sleeps for a relative clock, fd events are immediate, errors', () => {
    const g = new Guest({});
    const sub = g.alloc(48 * 2);
    const ev = g.alloc(32 * 2);
    const n = g.alloc(4);
    const clockSub = (at: number, userdata: bigint, timeout: bigint, flags = 0, id = 1) => {
      g.bytes.fill(0, at, at + 48);
      g.view.setBigUint64(at, userdata, true);
      g.bytes[at + 8] = 0;
      g.view.setUint32(at + 16, id, true);
      g.view.setBigUint64(at + 24, timeout, true);
      g.view.setUint16(at + 40, flags, true);
    };
    clockSub(sub, 42n, 30_000_000n);
    const t0 = performance.now();
    assert.equal(g.w.poll_oneoff!(sub, ev, 1, n), 0);
    const took = performance.now() - t0;
    assert.ok(took >= 25, `slept ${took} ms`);
    assert.equal(g.u32(n), 1);
    assert.equal(g.u64(ev), 42n);
    assert.equal(g.view.getUint16(ev + 8, true), 0);
    assert.equal(g.bytes[ev + 10], 0);
    // An absolute deadline already past returns at once.
    clockSub(sub, 1n, 0n, 1);
    const t1 = performance.now();
    assert.equal(g.w.poll_oneoff!(sub, ev, 1, n), 0);
    assert.ok(performance.now() - t1 < 20);
    // A stdin read subscription beside a long clock: only the fd event, no sleep.
    clockSub(sub, 1n, 10_000_000_000n);
    g.bytes.fill(0, sub + 48, sub + 96);
    g.view.setBigUint64(sub + 48, 7n, true);
    g.bytes[sub + 56] = 1;
    g.view.setUint32(sub + 64, 0, true);
    const t2 = performance.now();
    assert.equal(g.w.poll_oneoff!(sub, ev, 2, n), 0);
    assert.ok(performance.now() - t2 < 20);
    assert.equal(g.u32(n), 1);
    assert.equal(g.u64(ev), 7n);
    assert.equal(g.bytes[ev + 10], 1);
    assert.equal(g.w.poll_oneoff!(sub, ev, 0, n), Errno.INVAL);
    g.view.setUint32(sub + 64, 77, true);
    assert.equal(g.w.poll_oneoff!(sub, ev, 2, n), Errno.BADF);
    clockSub(sub, 1n, 1n, 0, 2);
    assert.equal(g.w.poll_oneoff!(sub, ev, 1, n), Errno.INVAL, 'CPU-time clock');
    g.bytes[sub + 8] = 9;
    assert.equal(g.w.poll_oneoff!(sub, ev, 1, n), Errno.INVAL, 'bad tag');
  });

  it('proc_exit throws WasiExit; proc_raise, sched_yield, sockets as wasmtime', () => {
    const g = new Guest({});
    assert.throws(() => g.w.proc_exit!(3), (e: unknown) => e instanceof WasiExit && e.code === 3);
    assert.equal(g.w.proc_raise!(6), Errno.NOTSUP);
    assert.equal(g.w.sched_yield!(), 0);
    assert.equal(g.w.sock_accept!(1, 0, 16), Errno.NOTSOCK);
    assert.equal(g.w.sock_recv!(1, 0, 0, 0, 16, 20), Errno.NOTSOCK);
    assert.equal(g.w.sock_send!(1, 0, 0, 0, 16), Errno.NOTSOCK);
    assert.equal(g.w.sock_shutdown!(1, 0), Errno.NOTSOCK);
    assert.equal(g.w.sock_shutdown!(50, 0), Errno.BADF);
  });

  it('invalid UTF-8 in a path is EILSEQ; a NUL in a path is EINVAL', () => {
    const g = new Guest({ backend: new MemoryFsBackend() });
    const [p, l] = g.str(new Uint8Array([0x66, 0xff]));
    assert.equal(g.w.path_create_directory!(3, p, l), Errno.ILSEQ);
    const [q, m] = g.str('a\0b');
    assert.equal(g.w.path_create_directory!(3, q, m), Errno.INVAL);
  });

  it('state is plain JSON: no bigints, versioned, and args/env travel', () => {
    const fs = new MemoryFsBackend();
    const a = new Guest({ backend: fs, args: ['p', 'x'], env: ['E=1'] });
    a.open('f', { oflags: 1 });
    const s = a.host.exportState();
    const text = JSON.stringify(s);
    assert.deepEqual(JSON.parse(text), s);
    assert.equal(s.version, 1);
    const b = new Guest({ backend: fs, args: ['other'], env: [] });
    b.host.importState(JSON.parse(text));
    const c = b.alloc(4);
    const sz = b.alloc(4);
    b.w.args_sizes_get!(c, sz);
    assert.equal(b.u32(c), 2);
    assert.throws(() => b.host.importState({ ...s, version: 99 } as never), /version/);
  });
});
