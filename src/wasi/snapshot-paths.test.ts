// Hostile paths in what a snapshot carries — follow-mount entries and descriptor paths — restored onto a real folder
// (NodeFsBackend) with sentinels around it (test/support/sandbox.ts): every one is refused with StateRefused naming
// the entry and the path, nothing outside the mount changes, and the mount is not wiped.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { makeSandbox, SECRET, type Sandbox } from '../../test/support/sandbox.js';
import { NodeFsBackend } from '../node/fs-backend.js';
import { FollowMount, type FollowMountTransfer } from './follow-mount.js';
import { MemoryFsBackend } from './memory-fs.js';
import { StateRefused } from './state-refused.js';
import { WasiHost } from './host.js';
import type { WasiState } from './state.js';

let sb: Sandbox;
beforeEach(async () => {
  sb = await makeSandbox('kafu-snapshot-paths-');
});
afterEach(async () => {
  await sb.remove();
});

const text = (s: string) => new TextEncoder().encode(s);

/** A real first-visit transfer (from an in-memory folder), as it arrives: JSON, with its blobs. */
function realTransfer(): { t: FollowMountTransfer; blobs: Uint8Array[] } {
  const src = new MemoryFsBackend();
  src.writeFile('keep.txt', 'keep');
  src.mkdir('sub');
  src.writeFile('sub/s.txt', 's');
  const blobs: Uint8Array[] = [];
  const t = new FollowMount(src, 'cloud').depart('edge', blobs, false);
  return { t: JSON.parse(JSON.stringify(t)) as FollowMountTransfer, blobs };
}

const file = (path: string, blobs: Uint8Array[], content = 'planted') => ({ path, kind: 'file' as const, blob: blobs.push(text(content)) - 1 });
const link = (path: string, target: string, blobs: Uint8Array[]) => ({ path, kind: 'symlink' as const, blob: blobs.push(text(target)) - 1 });

function arrive(t: unknown, blobs: Uint8Array[]): FollowMount {
  return new FollowMount(new NodeFsBackend(sb.mount), 'edge', { transfer: t, blobs, mount: '/' });
}

async function assertRefused(t: unknown, blobs: Uint8Array[], message: RegExp): Promise<void> {
  assert.throws(() => arrive(t, blobs), (e: unknown) => {
    assert.ok(e instanceof StateRefused, `a StateRefused, not ${String(e)}`);
    assert.match(e.message, /^snapshot refused: follow mount \/: /);
    assert.match(e.message, message);
    return true;
  });
  await sb.assertOutsideUntouched();
  assert.equal(readFileSync(join(sb.mount, 'keep.txt'), 'utf8'), 'keep', 'the mount is not wiped');
}

describe('follow-mount entries from a snapshot', () => {
  test('a real transfer still applies (and removes what the program does not have)', async () => {
    const { t, blobs } = realTransfer();
    arrive(t, blobs);
    assert.equal(readFileSync(join(sb.mount, 'sub/s.txt'), 'utf8'), 's');
    await sb.assertOutsideUntouched();
  });

  test('"../../victim": deleted, written into, made a folder', async () => {
    for (const mutate of [
      (t: FollowMountTransfer) => void t.deletes.push('../../victim'),
      (t: FollowMountTransfer, b: Uint8Array[]) => void t.upserts.push(file('../../victim/new.txt', b)),
      (t: FollowMountTransfer) => void t.upserts.push({ path: '../../victim/dir', kind: 'directory' }),
      (t: FollowMountTransfer) => void t.deletes.push('sub/../../../victim'),
    ]) {
      const { t, blobs } = realTransfer();
      mutate(t, blobs);
      await assertRefused(t, blobs, /"(sub\/)?\.\.\/\.\..*victim.*" leaves the mount/);
    }
  });

  test('absolute paths', async () => {
    const { t, blobs } = realTransfer();
    t.deletes.push(join(sb.root, 'victim'));
    await assertRefused(t, blobs, /is absolute/);
    const again = realTransfer();
    again.t.upserts.push(file(join(sb.root, 'victim/abs.txt'), again.blobs));
    await assertRefused(again.t, again.blobs, /is absolute/);
  });

  test('a symlink the same snapshot makes first: l -> /outside, then l/x (and a directory, a delete through it)', async () => {
    for (const second of [
      (b: Uint8Array[]) => file('l/x', b),
      () => ({ path: 'l/newdir', kind: 'directory' as const }),
    ]) {
      const { t, blobs } = realTransfer();
      t.upserts.push(link('l', sb.outside, blobs), second(blobs));
      await assertRefused(t, blobs, /entry "l\/(x|newdir)" leaves the mount \(symlink l points to an absolute path\)/);
    }
    // Deletes come before upserts: through a symlink already there.
    const { t, blobs } = realTransfer();
    t.deletes.push('l_out/o.txt', 'l_out/b');
    await assertRefused(t, blobs, /entry "l_out\/(o\.txt|b)" leaves the mount/);
  });

  test('l -> .. (and ../..) then l/x', async () => {
    for (const target of ['..', '../..', 'sub/../..']) {
      const { t, blobs } = realTransfer();
      t.upserts.push(link('l', target, blobs), file('l/x', blobs));
      await assertRefused(t, blobs, /entry "l\/x" leaves the mount/);
    }
    const { t, blobs } = realTransfer();
    t.deletes.push('l_up/victim');
    await assertRefused(t, blobs, /entry "l_up\/victim" leaves the mount/);
  });

  test('a symlink on the way is refused even when it stays inside (the host must not follow one)', async () => {
    const { t, blobs } = realTransfer();
    t.upserts.push(link('l', 'sub', blobs), file('l/x', blobs));
    await assertRefused(t, blobs, /entry "l\/x" goes through a symlink \(it resolves to "sub\/x"\)/);
  });

  test('hard links to outside: linkTo "../../host-secret.txt", linkTo through a symlink', async () => {
    const { t, blobs } = realTransfer();
    t.upserts.push({ path: 'stolen', kind: 'file', linkTo: '../../host-secret.txt' });
    await assertRefused(t, blobs, /linkTo: "\.\.\/\.\.\/host-secret\.txt" leaves the mount/);
    const again = realTransfer();
    again.t.upserts.push({ path: 'stolen', kind: 'file', linkTo: 'l_out/o.txt' });
    await assertRefused(again.t, again.blobs, /entry "stolen" links to "l_out\/o\.txt" leaves the mount/);
  });

  test('a hard link that turns a folder into a symlink: the times of a folder in it are not set through it', async () => {
    // sub2 is a folder; the transfer makes sub2/b, then replaces sub2 by a hard link of `evil -> /outside` (which
    // has a b), and sets sub2/b's times last, as it does for every folder.
    const { t, blobs } = realTransfer();
    mkdirSync(join(sb.mount, 'sub2'));
    symlinkSync(sb.outside, join(sb.mount, 'evil'));
    t.upserts.push({ path: 'sub2/b', kind: 'directory', atimNs: '0', mtimNs: '0' }, { path: 'sub2', kind: 'symlink', linkTo: 'evil' });
    for (const p of ['sub2', 'evil', 'sub2/b']) t.state.manifest[p] = { kind: 'directory', version: 'x:1' };
    await assertRefused(t, blobs, /entry "sub2\/b" leaves the mount \(symlink sub2 points to an absolute path\)/);
  });

  test('an empty path (the mount itself): deleted, replaced', async () => {
    const { t, blobs } = realTransfer();
    t.deletes.push('');
    await assertRefused(t, blobs, /deletes\[0\]: "" is empty: that is the mount itself/);
    const again = realTransfer();
    again.t.upserts.unshift(file('', again.blobs));
    await assertRefused(again.t, again.blobs, /upserts\[0\]\.path: "" is empty/);
  });

  test('NUL, "." and empty components, over-long paths and names', async () => {
    for (const [path, why] of [
      ['a\0b', /contains NUL/],
      ['./keep.txt', /not canonical/],
      ['sub//s.txt', /not canonical/],
      ['sub/', /not canonical/],
      ['d/'.repeat(2048) + 'x', /longer than 4095 bytes/],
      ['n'.repeat(256), /component longer than 255 bytes/],
      ['é'.repeat(128), /component longer than 255 bytes/],
    ] as const) {
      const { t, blobs } = realTransfer();
      t.upserts.push(file(path, blobs));
      await assertRefused(t, blobs, why);
    }
  });

  test('folders legal for a guest but too deep for this host (its own PATH_MAX): refused, not a crash', async () => {
    const { t, blobs } = realTransfer();
    const names = Array.from({ length: 16 }, (_, i) => String(i).padStart(3, '0') + 'x'.repeat(251)); // 4 095 bytes
    for (let i = 1; i <= names.length; i++) t.upserts.push({ path: names.slice(0, i).join('/'), kind: 'directory' });
    await assertRefused(t, blobs, /entry "015x+.*name too long|ENAMETOOLONG/);
  });

  test('the manifest, blobs and symlink targets are checked too', async () => {
    const cases: Array<[(t: FollowMountTransfer, b: Uint8Array[]) => void, RegExp]> = [
      [(t) => void (t.state.manifest['../escape'] = { kind: 'file', version: 'x:1' }), /state\.manifest\["\.\.\/escape"\]: "\.\.\/escape" leaves the mount/],
      [(t) => void (t.state.known['cloud']!['/etc'] = { kind: 'file', version: 'x:1' }), /is absolute/],
      [(t) => void t.upserts.push({ path: 'f', kind: 'file', blob: 99 }), /upserts\[\d+\]\.blob: no blob 99/],
      [(t, b) => void t.upserts.push(link('s', 'a\0b', b)), /symlink "s" has a target no guest could make/],
      [(t, b) => void t.upserts.push(link('s', '', b)), /symlink "s" has a target/],
      [(t) => void t.upserts.push({ path: 'd', kind: 'directory', blob: 0 }), /a directory has neither blob nor linkTo/],
      [(t) => void t.upserts.push({ path: 'f', kind: 'file' }), /a file has either a blob or a linkTo/],
      [(t) => void (t.upserts[0]!.mtimNs = '1e9'), /not a decimal integer/],
      [(t) => void ((t as { deletes: unknown }).deletes = 'x'), /deletes: /],
      [(t) => void ((t.upserts[0] as { kind: string }).kind = 'fifo'), /kind/],
    ];
    for (const [mutate, why] of cases) {
      const { t, blobs } = realTransfer();
      mutate(t, blobs);
      await assertRefused(t, blobs, why);
    }
  });
});

describe('descriptor paths from a snapshot', () => {
  /** The state of a host with the mount at "/", plus fd 4: data.txt open for reading. */
  function realState(): WasiState {
    const state = host().exportState();
    state.fds.push({
      fd: 4,
      desc: { kind: 'file', preopen: 0, path: 'data.txt', offset: '3', fdflags: 0, read: true, write: false, rightsBase: '1', rightsInheriting: '0' },
    });
    return JSON.parse(JSON.stringify(state)) as WasiState;
  }
  const host = () =>
    new WasiHost({ args: ['p'], env: [], preopens: [{ guestPath: '/', backend: new NodeFsBackend(sb.mount) }], stdout: () => {}, stderr: () => {} });

  async function assertRefused(state: unknown, message: RegExp): Promise<void> {
    const h = host();
    assert.throws(() => h.importState(state), (e: unknown) => {
      assert.ok(e instanceof StateRefused, `a StateRefused, not ${String(e)}`);
      assert.match(e.message, message);
      return true;
    });
    assert.equal(h.migrationBlocker(), null);
    await sb.assertOutsideUntouched();
  }

  test('a real state restores', () => {
    host().importState(realState());
  });

  test('a file path rewritten to "../../host-secret.txt", absolute, or through a symlink out', async () => {
    for (const [path, why] of [
      ['../../../host-secret.txt', /fds\[4\]\.desc\.path: "\.\.\/\.\.\/\.\.\/host-secret\.txt" leaves the mount/],
      [join(sb.root, 'host-secret.txt'), /is absolute/],
      ['l_up/host-secret.txt', /fd 4: path "l_up\/host-secret\.txt" leaves the mount/],
      ['l_out/o.txt', /fd 4: path "l_out\/o\.txt" leaves the mount/],
      ['data.txt\0', /contains NUL/],
    ] as const) {
      const state = realState();
      (state.fds[4]!.desc as { path: string }).path = path;
      await assertRefused(state, why);
    }
    assert.ok(!readFileSync(join(sb.root, 'host-secret.txt'), 'utf8').includes('changed'), SECRET);
  });

  test('a directory path "..", a directory through a symlink, a file that is a directory', async () => {
    for (const [fd, path, why] of [
      [3, '..', /fds\[3\]\.desc\.path: "\.\." leaves the mount/],
      [3, 'l_out', /fd 3: cannot reopen directory "l_out" in preopen \/: it is no longer a directory/],
      [3, 'l_out/b', /fd 3: path "l_out\/b" leaves the mount/],
      [4, '', /fds\[4\]\.desc\.path: "" is empty/],
      [4, 'sub', /fd 4: cannot reopen file "sub" in preopen \/: not a regular file/],
    ] as const) {
      const state = realState();
      (state.fds[fd]!.desc as { path: string }).path = path;
      await assertRefused(state, why);
    }
  });

  test('shapes: preopen index, fd numbers, offsets, rights, kinds, listings, version', async () => {
    const cases: Array<[(s: WasiState) => void, RegExp]> = [
      [(s) => void ((s.fds[4]!.desc as { preopen: number }).preopen = 7), /fds\[4\]\.desc\.preopen: no preopen 7/],
      [(s) => void (s.fds[4]!.fd = 3), /fds\[4\]\.fd: fd 3 appears twice/],
      [(s) => void (s.fds[4]!.fd = -1), /fds\[4\]\.fd/],
      [(s) => void (s.fds[4]!.fd = 2 ** 32), /fds\[4\]\.fd/],
      [(s) => void ((s.fds[4]!.desc as { offset: string }).offset = '-1'), /offset: out of range/],
      [(s) => void ((s.fds[4]!.desc as { offset: string }).offset = '99999999999999999999'), /offset: out of range/],
      [(s) => void ((s.fds[4]!.desc as { rightsBase: string }).rightsBase = 'abc'), /rightsBase: not a decimal integer/],
      [(s) => void ((s.fds[4]!.desc as { kind: string }).kind = 'pipe'), /fds\[4\]\.desc\.kind/],
      [(s) => void ((s.fds[3]!.desc as { listing: string[] }).listing = ['ok', '../x']), /listing\[1\]: "\.\.\/x" is not an entry name/],
      [(s) => void ((s as { version: number }).version = 2), /version: unsupported WASI state version/],
      [(s) => void ((s as { args: unknown }).args = [1]), /args\[0\]/],
      [(s) => void ((s as { monotonicNs: unknown }).monotonicNs = 5), /monotonicNs/],
      [(s) => void (s.preopens = ['/other']), /preopens \[\/other\] do not match/],
    ];
    for (const [mutate, why] of cases) {
      const state = realState();
      mutate(state);
      await assertRefused(state, why);
    }
    await assertRefused(null, /WASI state: \(top level\)/);
  });
});
