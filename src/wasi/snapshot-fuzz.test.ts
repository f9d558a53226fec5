// Seeded, time-bounded fuzzing of the restore path: a real follow-mount transfer and a real WASI state, with random
// fields replaced by hostile paths, wrong types and huge numbers, entries added and keys removed, applied onto a
// real folder with sentinels around it (test/support/sandbox.ts). Every attempt must end in a successful restore
// or a StateRefused — never another exception — and nothing outside the mount may ever change.
// KAFU_FUZZ_SEED=n reruns one seed; KAFU_FUZZ_MS sets the time budget (default 4 s, so npm test stays fast).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Rng } from '../../test/support/fuzz.js';
import { makeSandbox, MOUNT_FILES, type Sandbox } from '../../test/support/sandbox.js';
import { NodeFsBackend } from '../node/fs-backend.js';
import { FollowMount } from './follow-mount.js';
import { WasiHost } from './host.js';
import { MemoryFsBackend } from './memory-fs.js';
import { NodeStateLostError } from './node-state-lost.js';
import { StateRefused } from './state-refused.js';

const SEED = Number(process.env.KAFU_FUZZ_SEED ?? 20261201);
const BUDGET_MS = Number(process.env.KAFU_FUZZ_MS ?? 4000);

/** The shared seeded generator, as a function of [0, 1). */
function prng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next() / 2 ** 32;
}

let sb: Sandbox;
before(async () => {
  sb = await makeSandbox('kafu-snapshot-fuzz-');
});
after(async () => {
  await sb.remove();
});

/** Put the mount back as makeSandbox made it (the folder itself stays: its parent must not change). */
function resetMount(): void {
  for (const name of readdirSync(sb.mount)) rmSync(join(sb.mount, name), { recursive: true, force: true });
  for (const [path, content] of Object.entries(MOUNT_FILES)) {
    mkdirSync(join(sb.mount, path, '..'), { recursive: true });
    writeFileSync(join(sb.mount, path), content);
  }
  symlinkSync(sb.outside, join(sb.mount, 'l_out'));
  symlinkSync('../..', join(sb.mount, 'l_up'));
}

/** A real transfer (files, folders, symlinks in and out, a hard link) and a real WASI state, as JSON. */
function seeds(): { transfer: unknown; blobs: Uint8Array[]; wasi: unknown } {
  const src = new MemoryFsBackend();
  src.writeFile('keep.txt', 'keep');
  src.writeFile('data.txt', 'inside data\n');
  src.mkdirp('sub/deeper');
  src.writeFile('sub/s.txt', 's');
  src.symlink('../keep.txt', 'sub/up');
  src.symlink('sub', 'l_in');
  src.link('keep.txt', 'hard');
  const blobs: Uint8Array[] = [];
  const transfer = new FollowMount(src, 'cloud').depart('edge', blobs, false);
  const host = new WasiHost({ args: ['p', 'x'], env: ['A=b'], preopens: [{ guestPath: '/', backend: src }], stdout: () => {}, stderr: () => {} });
  const wasi = host.exportState();
  wasi.fds.push(
    { fd: 4, desc: { kind: 'file', preopen: 0, path: 'data.txt', offset: '3', fdflags: 1, read: true, write: true, rightsBase: '8', rightsInheriting: '0' } },
    { fd: 5, desc: { kind: 'directory', preopen: 0, path: 'sub', preopenName: null, rightsBase: '1', rightsInheriting: '1', cursor: '4', listing: ['deeper', 's.txt'] } },
  );
  return { transfer: JSON.parse(JSON.stringify(transfer)) as unknown, wasi: JSON.parse(JSON.stringify(wasi)) as unknown, blobs };
}

function hostileValues(): unknown[] {
  const abs = join(sb.root, 'victim');
  return [
    '..', '../..', '../../victim', '../../victim/v.txt', '../../host-secret.txt', abs, `${abs}/v.txt`, '/', '', '.', './keep.txt',
    'sub/../../..', 'l_out', 'l_out/o.txt', 'l_out/b', 'l_up', 'l_up/victim', 'l_up/host-secret.txt', 'l_in/s.txt', 'sub/up/x',
    'a\0b', '\0', 'sub//s.txt', 'sub/', 'x'.repeat(256), 'd/'.repeat(2100), './'.repeat(40000), 'é'.repeat(200), '__proto__',
    'constructor', 'keep.txt', 'sub', 'sub/s.txt', 'hard', 'new.txt', 'data.txt',
    -1, 0, 1, 3, 7, 0.5, 2 ** 31, 2 ** 32, 2 ** 53, 1e308, -1e308,
    '-1', '0', '18446744073709551616', '9223372036854775808', '99999999999999999999999', '1e3', 'abc', ' 1',
    null, true, false, {}, [], [null], { kind: 'file' }, 'file', 'directory', 'symlink', 'stdin', 'socket',
  ];
}

/** Every container in `v` (objects and arrays), with the keys it holds. */
function containers(v: unknown, out: Array<Record<string, unknown> | unknown[]> = []): Array<Record<string, unknown> | unknown[]> {
  if (v !== null && typeof v === 'object') {
    out.push(v as Record<string, unknown>);
    for (const child of Object.values(v)) containers(child, out);
  }
  return out;
}

/** One random change somewhere in `root`: replace a value, add an entry (a copy of another, or a hostile one), delete a key. */
function mutate(root: unknown, blobs: Uint8Array[], rand: () => number, values: unknown[]): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const box = pick(containers(root));
  const keys = Object.keys(box);
  const value = () => (rand() < 0.15 ? JSON.parse(JSON.stringify(pick(containers(root)))) : pick(values));
  const r = rand();
  if (Array.isArray(box) && r < 0.3) {
    const v = box.length > 0 && rand() < 0.5 ? JSON.parse(JSON.stringify(pick(box))) : value();
    box.push(v);
    return `push ${JSON.stringify(v)?.slice(0, 80)}`;
  }
  if (!Array.isArray(box) && r < 0.45) {
    const k = rand() < 0.5 || keys.length === 0 ? String(pick(values)) : pick(keys);
    const v = value();
    box[k] = v;
    return `set [${JSON.stringify(k.slice(0, 40))}] = ${JSON.stringify(v)?.slice(0, 80)}`;
  }
  if (keys.length === 0) return 'nothing';
  const k = pick(keys);
  if (r < 0.55) {
    if (Array.isArray(box)) box.splice(Number(k), 1);
    else delete box[k];
    return `delete ${k}`;
  }
  if (r < 0.6) {
    const data = new TextEncoder().encode(String(pick(values)));
    (box as Record<string, unknown>)[k] = blobs.push(data) - 1; // a new blob, perhaps a symlink's target
    return `${k} = new blob`;
  }
  const v = value();
  (box as Record<string, unknown>)[k] = v;
  return `${k} = ${JSON.stringify(v)?.slice(0, 80)}`;
}

test(`restoring mutated library-OS state: a restore or a refusal (StateRefused, NodeStateLostError), never anything else, nothing outside touched (seed ${SEED})`, async () => {
  const rand = prng(SEED);
  const values = hostileValues();
  const t0 = performance.now();
  let runs = 0;
  let refused = 0;
  while (performance.now() - t0 < BUDGET_MS) {
    runs++;
    resetMount();
    const { transfer, blobs, wasi } = seeds();
    const changes: string[] = [];
    const n = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < n; i++) changes.push(mutate(rand() < 0.6 ? transfer : wasi, blobs, rand, values));
    const where = `seed ${SEED}, run ${runs}: ${changes.join('; ')}`;
    try {
      const fm = new FollowMount(new NodeFsBackend(sb.mount), 'edge', { transfer, blobs, mount: '/' });
      const host = new WasiHost({ args: ['p'], env: [], preopens: [{ guestPath: '/', backend: fm.backend }], stdout: () => {}, stderr: () => {} });
      host.importState(wasi);
      host.release();
    } catch (e) {
      // (NodeStateLostError: the state counts on entries this folder lacks; refused too, the sender is asked for all.)
      if (!(e instanceof StateRefused || e instanceof NodeStateLostError)) assert.fail(`${where}: ${e instanceof Error ? e.stack : String(e)}`);
      refused++;
    }
    await sb.assertOutsideUntouched(`(${where})`);
  }
  if (process.env.KAFU_FUZZ_SEED) console.log(`${runs} runs, ${refused} refused`);
  assert.ok(runs > 20 && refused > 0 && refused < runs, `${runs} runs, ${refused} refused: both outcomes seen`);
});
