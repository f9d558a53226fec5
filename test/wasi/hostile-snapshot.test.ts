// Real snapshots of a compiled C program (test/programs/wasi/snapshot_paths.c: data.txt open across the hop to
// edge, a follow mount per node), rewritten the way an attacker would — a descriptor's path, follow-mount entries —
// and restored through the real restore path: in-process (runSegment, as every runtime mode does) and by
// `kafu serve --resume` in real processes. Each is refused with a one-line SnapshotFormatError, the host's secret
// is never printed, and nothing outside the mounts changes.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, before, beforeEach, describe, test } from 'node:test';
import { GuestModule } from '../../src/core/guest.js';
import { runSegment, type SegmentResult } from '../../src/core/program.js';
import { decodeSnapshot, encodeSnapshot, SnapshotFormatError, type Snapshot } from '../../src/core/snapshot.js';
import { encodeTransfer } from '../../src/core/transfer.js';
import { concat } from '../../src/core/wasm-sections.js';
import { nodeProgramHost } from '../../src/node/node-system.js';
import type { FollowMountTransfer } from '../../src/wasi/follow-mount.js';
import type { WasiState } from '../../src/wasi/index.js';
import { buildWasm } from '../support/build.js';
import { runCluster } from '../support/cluster.js';
import { freshDir } from '../support/forced.js';
import { makeSandbox, SECRET, type Sandbox } from '../support/sandbox.js';

let wasm = '';
let guest: GuestModule;
before(async () => {
  wasm = await buildWasm({ sources: ['test/programs/wasi/snapshot_paths.c'], args: ['-O1'] });
  guest = await GuestModule.load(new Uint8Array(await readFile(wasm)), 'prog.wasm');
});

let sb: Sandbox;
beforeEach(async () => {
  sb = await makeSandbox('kafu-hostile-', ['cloud', 'edge']);
});
afterEach(async () => {
  await sb.remove();
});

const mountsOf = (sb: Sandbox) => [{ guest: '/', host: join(sb.root, 'x', '${node}'), mode: 'follow' as const }];

function host(out: string[]) {
  const collect = (b: Uint8Array) => void out.push(new TextDecoder().decode(b));
  return nodeProgramHost({ programName: 'prog.wasm', args: [], mounts: mountsOf(sb), stdout: collect, stderr: collect });
}

/** The snapshot the program leaves cloud with (for edge), as bytes would carry it. */
function leaveCloud(): Snapshot {
  const r = runSegment(guest, 'cloud', host([]));
  assert.equal(r.kind, 'migrate');
  return (r as Extract<SegmentResult, { kind: 'migrate' }>).snapshot;
}

/** `s` with its library-OS state rewritten by `edit`, through snapshot bytes. */
function rewritten(
  s: Snapshot,
  edit: (wasi: WasiState, follow: FollowMountTransfer, blobs: Uint8Array[], header: Snapshot['header']) => void,
): Snapshot {
  const header = JSON.parse(JSON.stringify(s.header)) as Snapshot['header'];
  const blobs = [...s.blobs];
  edit(header.wasi as WasiState, (header.resources['kafu.mounts'] as Record<string, FollowMountTransfer>)['/']!, blobs, header);
  return decodeSnapshot(encodeSnapshot({ header, memory: s.memory, blobs }));
}

/** The descriptor of data.txt in a state. */
const dataFd = (w: WasiState) => w.fds.find((f) => 'path' in f.desc && f.desc.path === 'data.txt')!.desc as { path: string };

async function assertRefused(s: Snapshot, message: RegExp): Promise<void> {
  const out: string[] = [];
  assert.throws(() => runSegment(guest, 'edge', host(out), { from: s }), (e: unknown) => {
    assert.ok(e instanceof SnapshotFormatError, `a SnapshotFormatError, not ${String(e)}`);
    assert.match(e.message, /^snapshot refused: /);
    assert.match(e.message, message);
    return true;
  });
  assert.ok(!out.join('').includes(SECRET), 'the host secret is never printed');
  await sb.assertOutsideUntouched();
  assert.equal(await readFile(join(sb.root, 'x', 'edge', 'keep.txt'), 'utf8'), 'keep', 'the mount is not wiped');
}

describe('hostile snapshots of a real program', { concurrency: 1 }, () => {
  test('the real snapshot resumes on edge, which reads data.txt through the descriptor that travelled', async () => {
    const out: string[] = [];
    const s = leaveCloud();
    // cloud's folder holds l_out -> <root>/outside and l_up -> ../..: they travel as symlinks, never followed.
    const sent = (s.header.resources['kafu.mounts'] as Record<string, FollowMountTransfer>)['/']!.upserts;
    assert.deepEqual(sent.filter((u) => u.path.startsWith('l_')).map((u) => [u.path, u.kind]), [['l_out', 'symlink'], ['l_up', 'symlink']]);
    const r = runSegment(guest, 'edge', host(out), { from: rewritten(s, () => {}) });
    assert.equal(r.kind, 'migrate');
    assert.equal(out.join(''), 'edge read: inside data\n');
    assert.equal(await readFile(join(sb.root, 'x', 'edge', 'made-on-cloud.txt'), 'utf8'), 'cloud\n');
    await sb.assertOutsideUntouched();
  });

  test('a descriptor path rewritten to "../../host-secret.txt", or through a planted symlink out', async () => {
    const s = leaveCloud();
    await assertRefused(
      rewritten(s, (w) => void (dataFd(w).path = '../../host-secret.txt')),
      /WASI state: fds\[\d\]\.desc\.path: "\.\.\/\.\.\/host-secret\.txt" leaves the mount/,
    );
    await assertRefused(
      rewritten(s, (w) => void (dataFd(w).path = 'l_up/host-secret.txt')),
      /fd \d: path "l_up\/host-secret\.txt" leaves the mount/,
    );
  });

  test('follow-mount entries: a delete of ../../victim; l -> /outside, then l/x', async () => {
    const s = leaveCloud();
    await assertRefused(
      rewritten(s, (_, f) => void f.deletes.push('../../victim')),
      /follow mount \/: deletes\[0\]: "\.\.\/\.\.\/victim" leaves the mount/,
    );
    await assertRefused(
      rewritten(s, (_, f, blobs) => {
        f.upserts.push({ path: 'l', kind: 'symlink', blob: blobs.push(new TextEncoder().encode(sb.outside)) - 1 });
        f.upserts.push({ path: 'l/x', kind: 'file', blob: blobs.push(new TextEncoder().encode('planted')) - 1 });
        f.state.manifest['l'] = { kind: 'symlink', version: 'x:1' };
      }),
      /follow mount \/: entry "l\/x" leaves the mount/,
    );
  });

  test('the library-OS parts of the header replaced by other types', async () => {
    const s = leaveCloud();
    for (const [edit, why] of [
      [(h: Snapshot['header']) => void (h.resources = null as never), /resources: \(top level\)/],
      [(h: Snapshot['header']) => void (h.resources['kafu.mounts'] = []), /resources: \["kafu\.mounts"\]: .*expected record/],
      [(h: Snapshot['header']) => void (h.resources['kafu.mounts'] = { '/': 'x' }), /follow mount \/: \(top level\)/],
      [(h: Snapshot['header']) => void (h.wasi = 5), /WASI state: \(top level\)/],
      [(h: Snapshot['header']) => void (h.resources['kafu.storage'] = { edge: 1 }), /resources: \["kafu\.storage"\]\.edge/],
    ] as const) {
      // The frame's own header check (snapshot-header.ts) may refuse a wrong top-level type already when the bytes
      // are decoded; either way it is a one-line refusal naming the part.
      let crafted: Snapshot;
      try {
        crafted = rewritten(s, (_w, _f, _b, h) => edit(h));
      } catch (e) {
        assert.ok(e instanceof SnapshotFormatError, String(e));
        assert.match(e.message, /header field (resources|wasi)/);
        continue;
      }
      await assertRefused(crafted, why);
    }
  });

  test('kafu serve --resume of a crafted .kafusnap: both nodes end with one clear line, no stack trace', { timeout: 60_000 }, async () => {
    const dir = await freshDir('kafu-hostile-serve-');
    const file = join(dir, 'crafted.kafusnap');
    const crafted = rewritten(leaveCloud(), (w) => void (dataFd(w).path = 'l_up/host-secret.txt'));
    await writeFile(file, concat(encodeTransfer(crafted, { compression: true }).chunks));
    const run = await runCluster(wasm, {
      nodes: ['cloud', 'edge'],
      dir,
      appYaml: ['  mounts:', `    - { guest: /, host: ${JSON.stringify(mountsOf(sb)[0]!.host)}, mode: follow }`],
      nodeFlags: { cloud: ['--resume', file] },
    }).finally(() => rm(dir, { recursive: true, force: true }));
    for (const [id, n] of Object.entries(run.nodes)) {
      assert.equal(n.exitCode, 1, `${id}: ${n.stderr}`);
      assert.doesNotMatch(n.stderr, /^\s+at /m, `${id} prints no stack trace`);
      assert.ok(!(n.stdout + n.stderr).includes(SECRET), `${id} never prints the secret`);
    }
    assert.match(run.nodes.edge!.stderr, /snapshot refused: fd \d: path "l_up\/host-secret\.txt" leaves the mount/);
    await sb.assertOutsideUntouched();
  });
});
