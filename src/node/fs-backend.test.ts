import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Errno } from '../wasi/errno.js';
import { fsConformance } from '../wasi/fs-conformance.testlib.js';
import { Guest, R_READ } from '../wasi/guest.testlib.js';
import { NodeFsBackend } from './fs-backend.js';

fsConformance('the node:fs backend (temp dir)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kafu-wasi-'));
  return { backend: new NodeFsBackend(dir), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

/** A temporary folder `outer` holding `secret` and the preopen's folder `root`; removed afterwards. */
function withRoot(test: (outer: string, root: string) => void): void {
  const outer = mkdtempSync(join(tmpdir(), 'kafu-wasi-'));
  try {
    const root = join(outer, 'root');
    mkdirSync(root);
    writeFileSync(join(outer, 'secret'), 'secret');
    test(outer, root);
  } finally {
    rmSync(outer, { recursive: true, force: true });
  }
}

describe('NodeFsBackend sandbox against host-made symlinks', () => {
  it('refuses symlinks planted on the host that lead outside the preopen', () => {
    withRoot((outer, root) => {
      writeFileSync(join(root, 'ok'), 'ok');
      symlinkSync(join(outer, 'secret'), join(root, 'abs'));
      symlinkSync('../secret', join(root, 'rel'));
      symlinkSync('..', join(root, 'up'));
      const g = new Guest({ backend: new NodeFsBackend(root) });
      assert.equal(g.open('abs', { rights: R_READ }).errno, Errno.NOTCAPABLE);
      assert.equal(g.open('rel', { rights: R_READ }).errno, Errno.NOTCAPABLE);
      assert.equal(g.open('up/secret', { rights: R_READ }).errno, Errno.NOTCAPABLE);
      assert.equal(g.open('up/root/ok', { rights: R_READ }).errno, Errno.NOTCAPABLE);
      assert.equal(g.open('ok', { rights: R_READ }).errno, 0);
    });
  });
});

describe('NodeFsBackend refuses a path that could leave its root by its spelling', () => {
  it('"..", absolute, ".", empty components and NUL are ENOTCAPABLE before the host is asked', () => {
    withRoot((outer, root) => {
      const fs = new NodeFsBackend(root);
      for (const path of ['..', '../secret', 'a/../../secret', join(outer, 'secret'), './x', 'a//b', 'a/', 'x\0']) {
        assert.throws(() => fs.lstat(path), { code: 'ENOTCAPABLE' }, path);
        assert.throws(() => fs.unlink(path), { code: 'ENOTCAPABLE' }, path);
      }
      assert.equal(fs.lstat('').kind, 'directory');
    });
  });
});
