// FollowMount over in-memory folders: what a departure sends (first visit: everything; return trips: only what
// changed since the destination last had the program), and that applying it on arrival makes the destination's
// folder equal the source's — files, directories, symlinks, deletions and renames.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FollowMount, withEveryEntry, type FollowMountTransfer } from './follow-mount.js';
import { NodeStateLostError } from './node-state-lost.js';
import { MemoryFsBackend } from './memory-fs.js';

/** Every entry: "dir/" → "", "file" → content, "link" → "-> target". */
function tree(fs: MemoryFsBackend): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of fs.readdir(dir).sort()) {
      const p = dir === '' ? name : `${dir}/${name}`;
      const st = fs.lstat(p);
      if (st.kind === 'directory') {
        out[`${p}/`] = '';
        walk(p);
      } else if (st.kind === 'symlink') out[p] = `-> ${fs.readlink(p)}`;
      else out[p] = new TextDecoder().decode(fs.readFile(p));
    }
  };
  walk('');
  return out;
}

function seed(fs: MemoryFsBackend): void {
  fs.writeFile('a.txt', 'alpha');
  fs.mkdirp('dir/sub');
  fs.writeFile('dir/b.txt', 'bravo');
  fs.mkdir('empty');
  fs.symlink('a.txt', 'link');
  fs.symlink('../a.txt', 'dir/uplink');
}

/** One hop: leave `from` (holding `fm`) for `to`, arrive on `toFs`. */
function hop(fm: FollowMount, to: string, toFs: MemoryFsBackend, sameStorage = false) {
  const blobs: Uint8Array[] = [];
  const transfer = fm.depart(to, blobs, sameStorage);
  // The transfer travels as JSON in the snapshot header.
  const wire = JSON.parse(JSON.stringify(transfer)) as FollowMountTransfer;
  const arrived = new FollowMount(toFs, to, { transfer: wire, blobs });
  return { transfer, blobs, arrived };
}

const paths = (t: FollowMountTransfer) => t.upserts.map((u) => u.path);

describe('FollowMount', () => {
  test('the first visit sends everything, parents before children; the destination ends equal', () => {
    const cloud = new MemoryFsBackend();
    const edge = new MemoryFsBackend();
    seed(cloud);
    const fm = new FollowMount(cloud, 'cloud');
    const { transfer, blobs } = hop(fm, 'edge', edge);
    assert.deepEqual(paths(transfer), ['a.txt', 'dir', 'empty', 'link', 'dir/b.txt', 'dir/sub', 'dir/uplink']);
    assert.deepEqual(transfer.deletes, []);
    assert.deepEqual(
      transfer.upserts.map((u) => [u.path, u.kind, u.blob === undefined ? '-' : new TextDecoder().decode(blobs[u.blob])]),
      [
        ['a.txt', 'file', 'alpha'],
        ['dir', 'directory', '-'],
        ['empty', 'directory', '-'],
        ['link', 'symlink', 'a.txt'],
        ['dir/b.txt', 'file', 'bravo'],
        ['dir/sub', 'directory', '-'],
        ['dir/uplink', 'symlink', '../a.txt'],
      ],
    );
    assert.equal(blobs.length, 4, 'a blob per file and symlink, none for directories');
    assert.deepEqual(tree(edge), tree(cloud));
  });

  test('a return trip sends only the files changed on the node the program leaves', () => {
    const cloud = new MemoryFsBackend();
    const edge = new MemoryFsBackend();
    seed(cloud);
    const onEdge = hop(new FollowMount(cloud, 'cloud'), 'edge', edge).arrived;
    edge.writeFile('dir/b.txt', 'bravo, longer now');
    edge.writeFile('new.txt', 'made on edge');
    const back = hop(onEdge, 'cloud', cloud);
    assert.deepEqual(paths(back.transfer), ['new.txt', 'dir/b.txt']);
    assert.deepEqual(back.transfer.deletes, []);
    assert.equal(back.blobs.length, 2);
    assert.deepEqual(tree(cloud), tree(edge));
    assert.equal(tree(cloud)['dir/b.txt'], 'bravo, longer now');

    // Out again with nothing changed: nothing travels. Then a change on cloud travels alone.
    const again = hop(back.arrived, 'edge', edge);
    assert.deepEqual(paths(again.transfer), []);
    assert.deepEqual(again.blobs, []);
    edge.writeFile('a.txt', 'alpha changed on edge'); // the program, on edge again, changes a file
    const third = hop(again.arrived, 'cloud', cloud);
    assert.deepEqual(paths(third.transfer), ['a.txt']);
    cloud.writeFile('dir/b.txt', 'cloud edit');
    const fourth = hop(third.arrived, 'edge', edge);
    assert.deepEqual(paths(fourth.transfer), ['dir/b.txt']);
    assert.deepEqual(tree(edge), tree(cloud));
  });

  test('deletions and renames propagate, files and whole directories', () => {
    const cloud = new MemoryFsBackend();
    const edge = new MemoryFsBackend();
    seed(cloud);
    cloud.writeFile('dir/sub/deep.txt', 'deep');
    const onEdge = hop(new FollowMount(cloud, 'cloud'), 'edge', edge).arrived;
    edge.unlink('a.txt');
    edge.rename('dir/b.txt', 'dir/renamed.txt');
    edge.unlink('dir/sub/deep.txt');
    edge.rmdir('dir/sub');
    edge.rename('empty', 'moved-empty');
    const back = hop(onEdge, 'cloud', cloud);
    assert.deepEqual(back.transfer.deletes.sort(), ['a.txt', 'dir/b.txt', 'dir/sub', 'dir/sub/deep.txt', 'empty']);
    // `dir` changed too (entries left it): it travels again, without contents, for its times.
    assert.deepEqual(paths(back.transfer), ['dir', 'moved-empty', 'dir/renamed.txt']);
    assert.deepEqual(tree(cloud), tree(edge));
    assert.deepEqual(tree(cloud), {
      'dir/': '',
      'dir/renamed.txt': 'bravo',
      'dir/uplink': '-> ../a.txt',
      link: '-> a.txt',
      'moved-empty/': '',
    });
  });

  test('a path that changes kind (file → directory, directory → symlink, symlink retargeted) is replaced', () => {
    const cloud = new MemoryFsBackend();
    const edge = new MemoryFsBackend();
    seed(cloud);
    const onEdge = hop(new FollowMount(cloud, 'cloud'), 'edge', edge).arrived;
    edge.unlink('a.txt');
    edge.mkdir('a.txt');
    edge.writeFile('a.txt/inside', 'now a folder');
    edge.rmdir('empty');
    edge.symlink('dir', 'empty');
    edge.unlink('link');
    edge.symlink('dir/b.txt', 'link');
    const back = hop(onEdge, 'cloud', cloud);
    assert.deepEqual(tree(cloud), tree(edge));
    assert.equal(tree(cloud)['link'], '-> dir/b.txt');
    assert.equal(tree(cloud)['empty'], '-> dir');
    assert.equal(tree(cloud)['a.txt/inside'], 'now a folder');
    assert.ok(paths(back.transfer).includes('a.txt/inside'));
  });

  test('sameStorage (one folder for both nodes) sends nothing, however much changed', () => {
    const shared = new MemoryFsBackend();
    seed(shared);
    const fm = new FollowMount(shared, 'cloud');
    shared.writeFile('a.txt', 'changed');
    shared.writeFile('new.txt', 'new');
    shared.unlink('link');
    const blobs: Uint8Array[] = [];
    const t = fm.depart('edge', blobs, true);
    assert.deepEqual(t.upserts, []);
    assert.deepEqual(t.deletes, []);
    assert.deepEqual(blobs, []);
    const before = tree(shared);
    const arrived = new FollowMount(shared, 'edge', { transfer: t, blobs });
    assert.deepEqual(tree(shared), before, 'arriving changes nothing');
    // Back on a node with a separate folder later, that node gets everything it lacks.
    const other = new MemoryFsBackend();
    const out = hop(arrived, 'fog', other);
    assert.ok(paths(out.transfer).includes('new.txt'));
    assert.deepEqual(tree(other), tree(shared));
  });

  test(
    'a same-size rewrite by the program within one clock tick of the arrival still travels back',
    () => {
      const frozen = () => 1_000_000_000n; // every operation in one tick
      const cloud = new MemoryFsBackend(frozen);
      const edge = new MemoryFsBackend(frozen);
      cloud.writeFile('counter.txt', 'AAAA');
      const onEdge = hop(new FollowMount(cloud, 'cloud'), 'edge', edge).arrived;
      // The program writes through the mount's backend, which records the change whatever the clock says.
      const h = onEdge.backend.open('counter.txt', { read: false, write: true, create: false, exclusive: false, truncate: false });
      onEdge.backend.pwrite(h, new TextEncoder().encode('BBBB'), 0n);
      onEdge.backend.close(h);
      hop(onEdge, 'cloud', cloud);
      assert.equal(tree(cloud)['counter.txt'], 'BBBB');
    },
  );

  test('arrival removes only what the program removed: entries it never saw there stay (an operator\'s file, a log)', () => {
    const cloud = new MemoryFsBackend();
    const edge = new MemoryFsBackend();
    seed(cloud);
    edge.writeFile('operator.txt', 'on edge before the first visit');
    const onEdge = hop(new FollowMount(cloud, 'cloud'), 'edge', edge).arrived;
    assert.equal(tree(edge)['operator.txt'], 'on edge before the first visit');
    // While the program is on edge, another process writes into cloud's copy; the program deletes a.txt on edge.
    cloud.writeFile('app.log', 'written by another process');
    cloud.writeFile('saved.kafusnap', 'a saved program');
    edge.unlink('a.txt');
    const back = hop(onEdge, 'cloud', cloud);
    assert.deepEqual(back.transfer.deletes, ['a.txt']);
    assert.equal(tree(cloud)['app.log'], 'written by another process');
    assert.equal(tree(cloud)['saved.kafusnap'], 'a saved program');
    assert.equal(tree(cloud)['a.txt'], undefined, 'what the program removed is removed');
    // Edge's own file is part of the program's view now: it travelled to cloud.
    assert.equal(tree(cloud)['operator.txt'], 'on edge before the first visit');
  });

  test('one folder for both nodes: a file another process writes between departure and arrival stays', () => {
    const shared = new MemoryFsBackend();
    seed(shared);
    const fm = new FollowMount(shared, 'cloud');
    const blobs: Uint8Array[] = [];
    const t = fm.depart('edge', blobs, true);
    shared.writeFile('app.log', 'another process');
    new FollowMount(shared, 'edge', { transfer: JSON.parse(JSON.stringify(t)) as FollowMountTransfer, blobs });
    assert.equal(tree(shared)['app.log'], 'another process');
  });
  test('a node that lost entries the program counts on refuses the arrival; withEveryEntry carries them all', () => {
    const cloud = new MemoryFsBackend();
    seed(cloud);
    cloud.link('a.txt', 'dir/hard.txt');
    let edge = new MemoryFsBackend();
    const onEdge = hop(new FollowMount(cloud, 'cloud'), 'edge', edge).arrived;
    const back = hop(onEdge, 'cloud', cloud).arrived;
    cloud.writeFile('dir/b.txt', 'changed on cloud');
    cloud.unlink('link'); // deleted on cloud: a delete edge must still get
    // Edge restarts on an empty folder (or a tab replaces another): the delta counts on what it held.
    edge = new MemoryFsBackend();
    edge.writeFile('link', 'an operator\'s file where the deleted link was');
    const blobs: Uint8Array[] = [];
    const transfer = JSON.parse(JSON.stringify(back.depart('edge', blobs, false))) as FollowMountTransfer;
    assert.deepEqual(paths(transfer), ['dir/b.txt']);
    assert.throws(
      () => new FollowMount(edge, 'edge', { transfer, blobs, mount: '/data' }),
      (e: Error) =>
        e instanceof NodeStateLostError &&
        /^snapshot refused: follow mount \/data: entry "dir\/b\.txt" has a missing folder on the way .*: node edge lost them since the program left it/.test(e.message),
    );
    // Only files lost, their folders kept: said after the transfer is applied.
    const kept = new MemoryFsBackend();
    kept.mkdirp('dir/sub');
    kept.mkdir('empty');
    assert.throws(
      () => new FollowMount(kept, 'edge', { transfer, blobs, mount: '/data' }),
      (e: Error) =>
        e instanceof NodeStateLostError &&
        /^follow mount \/data: 3 of the program's entries are not in node edge's folder \("a\.txt", "dir\/hard\.txt", "dir\/uplink"\): node edge lost them/.test(e.message),
    );
    // Sent again with every entry (cloud's folder still holds the program's view): edge ends equal, links kept.
    const before = blobs.length;
    const whole = JSON.parse(JSON.stringify(withEveryEntry(transfer, blobs, cloud, 'follow mount /data'))) as FollowMountTransfer;
    assert.deepEqual(paths(whole), ['a.txt', 'dir', 'empty', 'dir/b.txt', 'dir/hard.txt', 'dir/sub', 'dir/uplink']);
    assert.deepEqual(whole.deletes, ['link']);
    assert.equal(whole.upserts.find((u) => u.path === 'dir/hard.txt')!.linkTo, 'a.txt');
    assert.equal(whole.upserts.find((u) => u.path === 'dir/b.txt')!.blob, transfer.upserts[0]!.blob, 'what it carried keeps its blob');
    assert.equal(blobs.length, before + 2, 'a.txt and dir/uplink read; the hard link and folders need none');
    new FollowMount(edge, 'edge', { transfer: whole, blobs });
    assert.deepEqual(tree(edge), tree(cloud));
    assert.equal(edge.lstat('a.txt').ino, edge.lstat('dir/hard.txt').ino);
  });

  test('withEveryEntry leaves a transfer that carries everything as it was', () => {
    const cloud = new MemoryFsBackend();
    seed(cloud);
    const blobs: Uint8Array[] = [];
    const first = new FollowMount(cloud, 'cloud').depart('edge', blobs, false);
    const whole = withEveryEntry(JSON.parse(JSON.stringify(first)), blobs, cloud, 'follow mount /');
    assert.deepEqual(whole.upserts, JSON.parse(JSON.stringify(first.upserts)));
    assert.equal(blobs.length, 4); // a.txt, dir/b.txt and the two symlinks' targets
  });
});
