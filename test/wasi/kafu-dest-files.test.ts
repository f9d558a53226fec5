// File I/O interleaved with KAFU_DEST migrations (test/programs/wasi/kafu_files.c, on_edge runs on "edge"):
// (a) preopened_dir shared by both nodes, (b) a follow mount whose host folder is per node, (c) node-local mounts,
// and exit() on a node other than the first — through singlenodeServe and through `kafu singlenode serve` as a
// real process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UserError } from '../../src/core/errors.js';
import { buildWasm, repoRoot } from '../support/build.js';
import { FORCED_PROGRAM_NAME, freshDir, runPlainModule, serveModule, snapshotTree, writeFiles } from '../support/forced.js';
import { runWasiModule } from '../../src/run/run.js';

const SOURCE = 'test/programs/wasi/kafu_files.c';
const NODES = ['cloud', 'edge'];
const ENTRY = (i: number) => `entry_${String(i).padStart(3, '0')}_with_a_name_long_enough_to_fill_buffers`;

let instrumented = '';
let plain = '';
let work = '';

before(async () => {
  instrumented = await buildWasm({ sources: [SOURCE], args: ['-O1'] });
  plain = await buildWasm({ sources: [SOURCE], args: ['-O1'], instrument: false });
  work = await freshDir('kafu-dest-files-');
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** A fresh folder under the test's work folder. */
let counter = 0;
async function caseDir(): Promise<string> {
  const d = join(work, `case-${++counter}`);
  await mkdir(d, { recursive: true });
  return d;
}

const LOG = 'cloud: start\nedge: step 1\ncloud: back\nedge: step 2\ncloud: end\n';

const EXPECTED_STDOUT = [
  'cloud wrote first half: 600',
  'cloud listed 40 entries',
  'edge wrote second half: 600 at offset 600',
  'edge listed 60 entries',
  'cloud-only.txt on edge: [from cloud]',
  'unlink on edge: 0',
  'rename on edge: 0',
  'overwrite in place: 4',
  'back on cloud (on_edge returned 1)',
  'seek to 0: 0',
  'out.bin read back: 1200 bytes, 0 wrong',
  'cloud listed the rest: 50, in all 150, 0 duplicates',
  'edge-made.txt on cloud: [written on edge]',
  'edge-dir/nested.txt on cloud: [nested]',
  'edge-link -> edge-made.txt',
  'through edge-link: [written on edge]',
  'to-delete.txt on cloud: No such file or directory',
  'to-rename.txt on cloud: No such file or directory',
  'renamed-on-edge.txt on cloud: [rename me]',
  'overwrite.txt on cloud: [BBBB]',
  'log on edge: [cloud: start\nedge: step 1\ncloud: back\nedge: step 2]',
  `log on cloud: [${LOG.slice(0, -1)}]`,
  '',
].join('\n');

function expectedTree(prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  const pattern = Array.from({ length: 1200 }, (_, i) => String.fromCharCode((i < 600 ? 65 : 97) + (i % 26))).join('');
  const entries: Record<string, string> = {
    'cloud-only.txt': 'from cloud',
    'edge-dir/': '',
    'edge-dir/nested.txt': 'nested',
    'edge-link': '-> edge-made.txt',
    'edge-made.txt': 'written on edge',
    'list/': '',
    'log.txt': LOG,
    'out.bin': pattern,
    'overwrite.txt': 'BBBB',
    'renamed-on-edge.txt': 'rename me',
  };
  for (let i = 0; i < 150; i++) entries[`list/${ENTRY(i)}`] = '';
  if (prefix) out[`${prefix}/`] = '';
  for (const k of Object.keys(entries).sort()) out[prefix ? `${prefix}/${k}` : k] = entries[k]!;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const migrationLogs = (logs: string[]) => logs.filter((l) => l.startsWith('Migration '));
const FOUR_HOPS = [
  'Migration cloud -> edge (Entering on_edge)',
  'Migration edge -> cloud (Returning from on_edge)',
  'Migration cloud -> edge (Entering on_edge)',
  'Migration edge -> cloud (Returning from on_edge)',
];

describe('file I/O across KAFU_DEST migrations', () => {
  test('baseline: the plain build on one host writes exactly the expected files', async () => {
    const dir = await caseDir();
    await mkdir(join(dir, 'data'));
    const r = await runPlainModule(plain, dir, { args: ['/data', 'files'] });
    assert.equal(r.stdout, EXPECTED_STDOUT);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(await snapshotTree(dir), expectedTree('data'));
  });

  test('(a) preopened_dir shared by both nodes: same output and files as the plain run', async () => {
    const dir = await caseDir();
    await mkdir(join(dir, 'shared', 'data'), { recursive: true });
    const r = await serveModule(instrumented, dir, { nodes: NODES, args: ['/data', 'files'], preopenedDir: './shared' });
    assert.equal(r.stdout, EXPECTED_STDOUT);
    assert.equal(r.stderr, '');
    assert.equal(r.exitCode, 0);
    assert.deepEqual(migrationLogs(r.logs), FOUR_HOPS);
    assert.deepEqual(await snapshotTree(join(dir, 'shared')), expectedTree('data'));
  });

  test('(b) follow mount with a folder per node: cloud ends with everything, edge with what it saw', async () => {
    const dir = await caseDir();
    const r = await serveModule(instrumented, dir, {
      nodes: NODES,
      args: ['/data', 'files'],
      mounts: [{ guest: '/data', host: './state/${node}', mode: 'follow' }],
    });
    assert.equal(r.stdout, EXPECTED_STDOUT);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(migrationLogs(r.logs), FOUR_HOPS);
    assert.deepEqual(await snapshotTree(join(dir, 'state', 'cloud')), expectedTree(''));
    // Edge's copy is as the program left it there: the log up to "edge: step 2", everything else final.
    const edge = expectedTree('');
    edge['log.txt'] = 'cloud: start\nedge: step 1\ncloud: back\nedge: step 2\n';
    assert.deepEqual(await snapshotTree(join(dir, 'state', 'edge')), edge);
  });

  test(
    '(b) a file in edge\'s folder before the first visit stays (the program never removed it) and joins the program\'s files',
    {},
    async () => {
      const dir = await caseDir();
      await writeFiles(join(dir, 'state', 'edge'), { 'operator.txt': 'put there by an operator' });
      const r = await serveModule(instrumented, dir, {
        nodes: NODES,
        args: ['/data', 'files'],
        mounts: [{ guest: '/data', host: './state/${node}', mode: 'follow' }],
      });
      assert.equal(r.exitCode, 0);
      assert.equal(r.stdout, EXPECTED_STDOUT);
      assert.equal((await snapshotTree(join(dir, 'state', 'edge')))['operator.txt'], 'put there by an operator');
      assert.deepEqual(await snapshotTree(join(dir, 'state', 'cloud')), { ...expectedTree(''), 'operator.txt': 'put there by an operator' });
    },
  );

  test('(c) a node-local file open at a KAFU_DEST call: a UserError naming fd and mount; nothing written is lost', async () => {
    const dir = await caseDir();
    const out: string[] = [];
    let error: unknown;
    try {
      await serveModule(instrumented, dir, {
        nodes: NODES,
        args: ['/data', 'nl-open'],
        mounts: [
          { guest: '/data', host: './state/${node}', mode: 'follow' },
          { guest: '/sensors', host: './sensors/${node}', mode: 'node-local' },
        ],
      }).then((r) => out.push(r.stdout));
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    const msg = (error as Error).message;
    assert.match(msg, /cloud -> edge/);
    assert.match(msg, /on_edge/);
    assert.match(msg, /fd 5\b/);
    assert.match(msg, /\/sensors\/reading\.txt/);
    assert.match(msg, /node-local mount \/sensors/);
    assert.ok(!msg.includes('\n'), 'one line');
    assert.equal(await readFile(join(dir, 'state', 'cloud', 'before.txt'), 'utf8'), 'written before');
    assert.equal(await readFile(join(dir, 'sensors', 'cloud', 'reading.txt'), 'utf8'), 'cloud reading\n');
    assert.equal(existsSync(join(dir, 'sensors', 'edge')), false, 'the program never started on edge');
  });

  test('(c) the same refusal through `kafu singlenode serve`: one line on stderr, exit 1, stdout delivered', async () => {
    const dir = await caseDir();
    await symlink(instrumented, join(dir, FORCED_PROGRAM_NAME));
    await writeFile(
      join(dir, 'kafu-config.yaml'),
      [
        'name: nl',
        'app:',
        `  path: ./${FORCED_PROGRAM_NAME}`,
        '  args: ["/data", "nl-open"]',
        '  mounts:',
        '    - { guest: /data, host: "./state/${node}" }',
        '    - { guest: /sensors, host: "./sensors/${node}", mode: node-local }',
        'nodes:',
        '  cloud: { address: 127.0.0.1, port: 50051 }',
        '  edge: { address: 127.0.0.1, port: 50052 }',
        '',
      ].join('\n'),
    );
    const p = spawnSync(process.execPath, [join(repoRoot, 'bin', 'kafu.js'), 'singlenode', 'serve', 'kafu-config.yaml'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(p.status, 1, p.stderr);
    assert.equal(p.stdout, 'reading.txt fd 5 wrote 14\ncalling on_edge with a node-local file open\n');
    const errors = p.stderr.split('\n').filter((l) => l.startsWith('kafu: error:'));
    assert.equal(errors.length, 1, p.stderr);
    assert.match(errors[0]!, /fd 5 \(\/sensors\/reading\.txt, open on node-local mount \/sensors; close it before the call that migrates, or make \/sensors a follow mount so its files travel\)/);
    assert.doesNotMatch(p.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(await readFile(join(dir, 'state', 'cloud', 'before.txt'), 'utf8'), 'written before');
  });

  test('(c) a node-local mount with nothing open migrates; each node sees its own folder', async () => {
    const dir = await caseDir();
    await writeFiles(join(dir, 'sensors', 'cloud'), { 'id.txt': 'cloud sensor\n', 'temp-cloud.csv': '1,2\n' });
    await writeFiles(join(dir, 'sensors', 'edge'), { 'id.txt': 'edge sensor\n', 'temp-edge.csv': '3,4\n' });
    const r = await serveModule(instrumented, dir, {
      nodes: NODES,
      args: ['/data', 'nl-closed'],
      mounts: [
        { guest: '/data', host: './state/${node}', mode: 'follow' },
        { guest: '/sensors', host: './sensors/${node}', mode: 'node-local' },
      ],
    });
    assert.equal(r.exitCode, 0);
    assert.equal(
      r.stdout,
      [
        'cloud sees: id.txt temp-cloud.csv',
        'cloud id: [cloud sensor]',
        'edge sees: id.txt temp-edge.csv',
        'edge id: [edge sensor]',
        'cloud sees: id.txt temp-cloud.csv',
        'edge-note.txt on cloud: No such file or directory',
        'follow mount file from edge on cloud: [edge]',
        '',
      ].join('\n'),
    );
    assert.deepEqual(migrationLogs(r.logs), FOUR_HOPS.slice(0, 2));
    assert.deepEqual(await snapshotTree(join(dir, 'sensors', 'cloud')), { 'id.txt': 'cloud sensor\n', 'temp-cloud.csv': '1,2\n' });
    assert.deepEqual(await snapshotTree(join(dir, 'sensors', 'edge')), {
      'edge-note.txt': 'seen on edge',
      'id.txt': 'edge sensor\n',
      'temp-edge.csv': '3,4\n',
    });
  });
});

describe('open files that are renamed or deleted', () => {
  test('a file renamed (and its folder too) while open keeps being written through its fd on edge and back', async () => {
    for (const mounts of [undefined, [{ guest: '/data', host: './state/${node}', mode: 'follow' as const }]]) {
      const dir = await caseDir();
      if (!mounts) await mkdir(join(dir, 'shared'));
      const r = await serveModule(instrumented, dir, {
        nodes: NODES,
        args: ['/data', 'renamed'],
        ...(mounts ? { mounts } : { preopenedDir: './shared' }),
      });
      assert.equal(
        r.stdout,
        'rename file: 0\nrename dir: 0\nedge writes: 5\nnew-dir/new.txt on edge: [cloud;edge;]\n' +
          'new-dir/new.txt on cloud: [cloud;edge;cloud again]\nold-dir on cloud: No such file or directory\n',
        mounts ? 'a folder per node' : 'preopened_dir',
      );
      assert.equal(r.exitCode, 0);
      const cloud = await snapshotTree(mounts ? join(dir, 'state', 'cloud') : join(dir, 'shared', 'data'));
      assert.deepEqual(cloud, { 'new-dir/': '', 'new-dir/new.txt': 'cloud;edge;cloud again' });
    }
  });

  test('a file deleted while open cannot travel: the KAFU_DEST call is refused with a UserError naming it', async () => {
    const dir = await caseDir();
    await assert.rejects(
      serveModule(instrumented, dir, {
        nodes: NODES,
        args: ['/data', 'unlinked'],
        mounts: [{ guest: '/data', host: './state/${node}', mode: 'follow' }],
      }),
      (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.match(e.message, /cannot migrate cloud -> edge at on_edge: fd 4: open file "scratch\.txt" was deleted while open/);
        return true;
      },
    );
  });
});

describe('proc_exit on a node other than the first', () => {
  const EXIT_STDOUT = 'cloud before exit on edge\nedge calls exit(23)\natexit ran\n';

  test('singlenodeServe: the program ends on edge with exit code 23, atexit output flushed', async () => {
    const dir = await caseDir();
    const r = await serveModule(instrumented, dir, { nodes: NODES, args: ['/data', 'exit'] });
    assert.equal(r.exitCode, 23);
    assert.equal(r.stdout, EXIT_STDOUT);
    assert.deepEqual(migrationLogs(r.logs), ['Migration cloud -> edge (Entering on_edge)']);
    assert.equal(r.logs.at(-1), 'Program finished on edge (exit code 23)');
    // The plain build agrees.
    const p = await runWasiModule(new Uint8Array(await readFile(plain)), plain, {
      args: ['p', '/data', 'exit'], env: [], preopens: [], stdout: () => {}, stderr: () => {},
    });
    assert.equal(p, 23);
  });

  test('`kafu singlenode serve` as a process exits with the program\'s code', async () => {
    const dir = await caseDir();
    await symlink(instrumented, join(dir, FORCED_PROGRAM_NAME));
    await writeFile(
      join(dir, 'kafu-config.yaml'),
      `name: exit\napp:\n  path: ./${FORCED_PROGRAM_NAME}\n  args: ["/data", "exit"]\nnodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n  edge: { address: 127.0.0.1, port: 50052 }\n`,
    );
    const p = spawnSync(process.execPath, [join(repoRoot, 'bin', 'kafu.js'), 'singlenode', 'serve', join(dir, 'kafu-config.yaml')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(p.status, 23, p.stderr);
    assert.equal(p.stdout, EXIT_STDOUT);
    assert.match(p.stderr, /Program finished on edge \(exit code 23\)/);
  });
});
