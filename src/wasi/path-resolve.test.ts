// Path resolution stays linear in what it walks, and keeps Linux's limits: a path under PATH_MAX (4096 with its
// NUL) bytes, components of at most NAME_MAX (255) bytes, symlink targets under PATH_MAX; beyond, ENAMETOOLONG.
// Long but legal paths still resolve, on the in-memory backend and on a real folder.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { NodeFsBackend } from '../node/fs-backend.js';
import { Errno, WasiError } from './errno.js';
import { MemoryFsBackend } from './memory-fs.js';
import { resolvePath } from './path-resolve.js';

const errno = (f: () => unknown): number => {
  try {
    f();
  } catch (e) {
    if (e instanceof WasiError) return e.errno;
    throw e;
  }
  return Errno.SUCCESS;
};

/** Milliseconds `f` takes. */
const timed = (f: () => void): number => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};

describe('path resolution: linear, with limits', () => {
  const fs = new MemoryFsBackend();
  fs.writeFile('a', 'a');

  test('40 000 × "./" is refused with ENAMETOOLONG at once (it took 11 s, quadratic)', () => {
    const path = './'.repeat(40_000) + 'a';
    let code = 0;
    const ms = timed(() => (code = errno(() => resolvePath(fs, [], path, true))));
    assert.equal(code, Errno.NAMETOOLONG);
    assert.ok(ms < 200, `${ms.toFixed(1)} ms`);
  });

  test('just under PATH_MAX of "./" resolves, fast; one byte more is ENAMETOOLONG', () => {
    const path = './'.repeat(2047) + 'a'; // 4095 bytes
    let r: ReturnType<typeof resolvePath> | undefined;
    const ms = timed(() => (r = resolvePath(fs, [], path, true)));
    assert.equal(r!.path, 'a');
    assert.ok(ms < 100, `${ms.toFixed(1)} ms`);
    assert.equal(errno(() => resolvePath(fs, [], '/' + path.slice(1) + 'b', true)), Errno.NAMETOOLONG);
    assert.equal(errno(() => resolvePath(fs, [], path + 'b', true)), Errno.NAMETOOLONG);
  });

  test('NAME_MAX: 255 bytes resolve, 256 do not (UTF-8 bytes, not characters)', () => {
    assert.equal(resolvePath(fs, [], 'n'.repeat(255), false).stat, null);
    assert.equal(errno(() => resolvePath(fs, [], 'n'.repeat(256), false)), Errno.NAMETOOLONG);
    assert.equal(resolvePath(fs, [], 'é'.repeat(127), false).stat, null); // 254 bytes
    assert.equal(errno(() => resolvePath(fs, [], 'é'.repeat(128), false)), Errno.NAMETOOLONG);
    assert.equal(errno(() => resolvePath(fs, [], '😀'.repeat(64), false)), Errno.NAMETOOLONG); // 256 bytes
  });

  test('symlink expansion counts: 40 links of ~4 KB each are walked in linear time; a 4 KB target is refused', () => {
    const links = new MemoryFsBackend();
    links.mkdir('d');
    links.symlink('./'.repeat(2046) + '.', 's'); // 4093 bytes, resolves to the base
    const path = 's/'.repeat(40) + 'd'; // 40 expansions: 80 000 components in all
    let r: ReturnType<typeof resolvePath> | undefined;
    const ms = timed(() => (r = resolvePath(links, [], path, true)));
    assert.equal(r!.path, 'd');
    assert.ok(ms < 200, `${ms.toFixed(1)} ms`);
    assert.equal(errno(() => resolvePath(links, [], 's/'.repeat(41) + 'd', true)), Errno.LOOP);
    links.symlink('./'.repeat(2048) + 'd', 'long'); // 4097 bytes: no real system has such a link
    assert.equal(errno(() => resolvePath(links, [], 'long', true)), Errno.NAMETOOLONG);
    links.symlink('n'.repeat(256), 'longname');
    assert.equal(errno(() => resolvePath(links, [], 'longname', true)), Errno.NAMETOOLONG);
  });

  test('a symlink with a trailing "/" in the middle of a path does not make the result a directory', () => {
    const m = new MemoryFsBackend();
    m.mkdir('dir');
    m.writeFile('dir/f', 'f');
    m.symlink('dir/', 'l');
    assert.equal(resolvePath(m, [], 'l/f', true).stat?.kind, 'file');
    assert.equal(errno(() => resolvePath(m, [], 'dir/f/', true)), Errno.NOTDIR);
  });

  test('a long legal path resolves on a real folder: 15 nested folders of 250-byte names (3 765 bytes)', () => {
    const root = mkdtempSync(join(tmpdir(), 'kafu-long-path-'));
    try {
      const fs = new NodeFsBackend(root);
      const names = Array.from({ length: 15 }, (_, i) => String(i).padStart(3, '0') + 'x'.repeat(247));
      for (let i = 1; i <= names.length; i++) fs.mkdir(names.slice(0, i).join('/'));
      const path = names.join('/');
      const r = resolvePath(fs, [], path + '/', true);
      assert.equal(r.path, path);
      assert.equal(r.stat?.kind, 'directory');
      assert.equal(errno(() => resolvePath(fs, [], path + '/' + 'y'.repeat(330), false)), Errno.NAMETOOLONG);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
