// `kafu serve`: one real process per node, gRPC on loopback. A cluster run is compared with a plain run of the
// same program (`kafu run`'s code): with app.output first_node the first node's stdout and stderr are the plain
// run's, byte for byte, and every node exits with the program's exit code.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TRAP_EXIT_CODE } from '../../src/core/trap.js';
import { buildWasm } from '../support/build.js';
import { clusterConfig, runCluster, spawnKafu } from '../support/cluster.js';
import { buildForced, freshDir, runPlainModule, snapshotTree, writeFiles } from '../support/forced.js';
import { runPlain } from '../support/run.js';

const build = (source: string) => buildWasm({ sources: [source], args: ['-O1'] });
const migrationLines = (logs: string[]) => logs.filter((l) => /^(\[\S+\s*\] )?Migration /.test(l)).sort();

/** What `kafu run` prints for `wasm` given `input` on stdin (a real process, as the cluster's nodes are). */
async function runPlainWithStdin(wasm: string, input: string): Promise<string> {
  const r = await spawnKafu(['run', wasm], process.cwd(), input).done;
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout;
}

describe('kafu serve: a program across node processes', () => {
  let chatter = '';
  before(async () => {
    chatter = await build('test/programs/serve/chatter.c');
  });

  test('first_node output: the first node prints exactly what one process prints, in order', async () => {
    const plain = await runPlain(chatter, { args: ['4'] });
    const run = await runCluster(chatter, { nodes: ['cloud', 'edge'], args: ['4'], output: 'first_node' });
    const { cloud, edge } = run.nodes;
    assert.equal(cloud!.exitCode, 0, cloud!.stderr);
    assert.equal(edge!.exitCode, 0, edge!.stderr);
    assert.equal(cloud!.stdout, plain.stdout);
    // The runtime's log lines are the process's own; the program's stderr is forwarded like stdout.
    const programStderr = (s: string) => s.split('\n').filter((l) => !/^\d{4}-\d\d-\d\dT/.test(l)).join('\n');
    assert.equal(programStderr(cloud!.stderr), programStderr(plain.stderr));
    assert.equal(edge!.stdout, '');
    // 4 rounds: enter on_edge, enter back_home, return from back_home, return from on_edge.
    assert.equal(migrationLines(run.logs).length, 16);
    assert.ok(run.logs.some((l) => /Program moved to edge: .*delta/.test(l)), 'later hops send page deltas');
  });

  test('memory_compression: deflate and memory_migration: full give the same run', async () => {
    const plain = await runPlain(chatter, { args: ['2'] });
    for (const migration of ['{ memory_migration: full, memory_compression: deflate }', '{ memory_migration: delta, memory_compression: deflate }']) {
      const run = await runCluster(chatter, {
        nodes: ['cloud', 'edge'],
        args: ['2'],
        output: 'first_node',
        clusterYaml: [`  migration: ${migration}`],
      });
      assert.equal(run.nodes.cloud!.exitCode, 0, run.nodes.cloud!.stderr);
      assert.equal(run.nodes.cloud!.stdout, plain.stdout);
      assert.ok(run.logs.some((l) => /^Program moved to edge: .* sent \(\d+ pages, deflated\)/.test(l)), run.logs.join('\n'));
    }
  });

  test('local output: each node prints what the program printed there (Kafu\'s behaviour)', async () => {
    const run = await runCluster(chatter, { nodes: ['cloud', 'edge'], args: ['2'] });
    const { cloud, edge } = run.nodes;
    assert.equal(cloud!.exitCode, 0, cloud!.stderr);
    assert.equal(edge!.exitCode, 0, edge!.stderr);
    // stdout is fully buffered: what cloud left in the buffer is flushed by edge, as one process would.
    assert.match(edge!.stdout, /^cloud: round 0 begins \.\.\. edge continues round 0\n/);
    assert.match(edge!.stdout, /edge line 1\.49 padding/);
    assert.match(cloud!.stdout, /cloud: done, sum 11\n$/);
    assert.doesNotMatch(cloud!.stdout, /edge line/);
    assert.match(cloud!.stderr, /cloud nested stderr 1/);
    assert.match(edge!.stderr, /edge stderr 1/);
  });

  test('exit() on a node other than the first ends every node with that code', async () => {
    const plain = await runPlain(chatter, { args: ['2', 'exit9'] });
    assert.equal(plain.exitCode, 9);
    const run = await runCluster(chatter, { nodes: ['cloud', 'edge'], args: ['2', 'exit9'], output: 'first_node' });
    assert.equal(run.nodes.cloud!.exitCode, 9);
    assert.equal(run.nodes.edge!.exitCode, 9);
    assert.equal(run.nodes.cloud!.stdout, plain.stdout);
    assert.ok(run.logs.includes('Program finished on edge (exit code 9)'), run.logs.join('\n'));
  });

  test('first_node: the program reads the first node\'s stdin wherever it runs', async () => {
    const stdinWasm = await build('test/programs/core/stdin.c');
    const input = 'first line\nsecond line\n' + 'x'.repeat(70_000) + '\nlast line\n';
    const plain = await runPlainWithStdin(stdinWasm, input);
    const run = await runCluster(stdinWasm, { nodes: ['cloud', 'edge'], output: 'first_node', stdin: input });
    assert.equal(run.nodes.cloud!.exitCode, 0, run.nodes.cloud!.stderr + run.nodes.edge!.stderr);
    assert.equal(run.nodes.cloud!.stdout, plain);
    assert.match(plain, /^cloud read: first line\nedge read: second line\n(edge read: x+\n)+edge read: last line\nlines on edge: \d+\n$/);
  });

  test('three nodes, nested chain A→B→C→B→A and back', async () => {
    const nested = await build('test/programs/core/nested.c');
    const plain = await runPlain(nested);
    const run = await runCluster(nested, { nodes: ['A', 'B', 'C'], output: 'first_node' });
    for (const id of ['A', 'B', 'C']) assert.equal(run.nodes[id]!.exitCode, 0, run.nodes[id]!.stderr);
    assert.equal(run.nodes.A!.stdout, plain.stdout);
    assert.equal(migrationLines(run.logs).length, 8);
  });

  test('a trap on edge: every node exits 134, the backtrace is logged where it happened', async () => {
    const trap = await build('test/programs/core/trap.c');
    const run = await runCluster(trap, { nodes: ['cloud', 'edge'] });
    assert.equal(run.nodes.cloud!.exitCode, TRAP_EXIT_CODE);
    assert.equal(run.nodes.edge!.exitCode, TRAP_EXIT_CODE);
    assert.match(run.nodes.edge!.stdout, /^on edge\n$/);
    assert.match(run.nodes.edge!.stderr, /Program trapped on edge/);
    assert.match(run.nodes.edge!.stderr, /at crash \(offset/);
  });
});

describe('kafu serve: files that follow the program between processes', () => {
  let instrumented = '';
  let plainWasm = '';
  let work = '';
  before(async () => {
    instrumented = await buildWasm({ sources: ['test/programs/wasi/kafu_files.c'], args: ['-O1'] });
    plainWasm = await buildWasm({ sources: ['test/programs/wasi/kafu_files.c'], args: ['-O1'], instrument: false });
    work = await freshDir('kafu-serve-files-');
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function plainRun(name: string) {
    const dir = join(work, name);
    await mkdir(join(dir, 'data'), { recursive: true });
    return { ...(await runPlainModule(plainWasm, dir, { args: ['/data', 'files'] })), files: await snapshotTree(join(dir, 'data')) };
  }

  for (const [label, host] of [
    ['a folder per node: what edge wrote reaches cloud', './state/${node}'],
    ['one folder for both nodes (same storage: nothing copied)', './state/shared'],
  ] as const) {
    test(`${label}; output and files equal a plain run`, async () => {
      const plain = await plainRun(`plain-${host.length}`);
      const dir = join(work, `cluster-${host.length}`);
      await mkdir(dir);
      const run = await runCluster(instrumented, {
        nodes: ['cloud', 'edge'],
        args: ['/data', 'files'],
        output: 'first_node',
        dir,
        appYaml: ['  mounts:', `    - { guest: /data, host: "${host}" }`],
      });
      assert.equal(run.nodes.cloud!.exitCode, 0, run.nodes.cloud!.stderr + run.nodes.edge!.stderr);
      assert.equal(run.nodes.cloud!.stdout, plain.stdout);
      assert.deepEqual(await snapshotTree(join(dir, host.replace('${node}', 'cloud'))), plain.files);
    });
  }

  test('a file open on a node-local mount refuses the migration: every node exits 1, the reason named', async () => {
    const dir = join(work, 'node-local');
    await mkdir(dir);
    const run = await runCluster(instrumented, {
      nodes: ['cloud', 'edge'],
      args: ['/data', 'nl-open'],
      dir,
      appYaml: [
        '  mounts:',
        '    - { guest: /data, host: "./state/${node}" }',
        '    - { guest: /sensors, host: "./sensors/${node}", mode: node-local }',
      ],
    });
    assert.equal(run.nodes.cloud!.exitCode, 1);
    assert.equal(run.nodes.edge!.exitCode, 1);
    assert.match(run.nodes.cloud!.stderr, /cannot migrate cloud -> edge at on_edge: fd 5 \(\/sensors\/reading\.txt, open on node-local mount \/sensors; close it before/);
    assert.doesNotMatch(run.nodes.cloud!.stderr, /at .*\.js:\d+/, 'no stack trace');
    assert.match(run.nodes.edge!.stderr, /stopping: cloud: cannot migrate/);
  });
});

describe('kafu serve: forced migrations after WASI calls, across processes', () => {
  for (const nodes of [['a', 'b'], ['a', 'b', 'c']]) {
    test(`fd_file.c moved round robin over ${nodes.join(', ')} after every 3rd WASI call: output, files and exit code equal a plain run`, async () => {
      const wasm = await buildForced(['test/programs/wasi/fd_file.c']);
      const work = await freshDir('kafu-serve-forced-');
      try {
        await mkdir(join(work, 'plain'));
        const plain = await runPlainModule(wasm.plain, join(work, 'plain'));
        const run = await runCluster(wasm.migrating, {
          nodes,
          output: 'first_node',
          dir: work,
          appYaml: ['  mounts:', '    - { guest: /, host: "./state/${node}" }'],
          flags: ['--force-migration-every', '3', '--log-level', 'debug'],
        });
        const ended = /Program finished on (\S+) /.exec(run.logs.find((l) => l.startsWith('Program finished on')) ?? '')?.[1];
        assert.ok(ended, run.nodes.a!.stderr);
        assert.equal(run.nodes.a!.exitCode, plain.exitCode, run.nodes.a!.stderr);
        assert.equal(run.nodes.a!.stdout, plain.stdout);
        assert.ok(migrationLines(run.logs).length > 20, 'many forced migrations');
        // Round robin over three nodes: no destination holds the last hop's memory, so every hop is whole (and
        // known to be, without a refused attempt); over two, every hop after the first is a delta.
        const moves = run.logs.filter((l) => l.startsWith('Program moved'));
        const deltas = moves.filter((l) => / \(delta: /.test(l)).length;
        assert.equal(deltas, nodes.length === 3 ? 0 : moves.length - 1, moves.join('\n'));
        assert.ok(!run.logs.some((l) => /sending the whole snapshot/.test(l)), 'no refused delta');
        assert.deepEqual(await snapshotTree(join(work, 'state', ended)), await snapshotTree(join(work, 'plain')));
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  }
});

describe('kafu serve: mistakes and failures end every node with a clear message, never a hang', () => {
  let linger = '';
  let work = '';
  before(async () => {
    linger = await build('test/programs/serve/linger.c');
    work = await freshDir('kafu-serve-fail-');
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Run linger.c (`seconds` on edge) and send `signal` to `victim` once the program waits on edge. */
  /** `handedOff`: also wait until cloud knows the hand-off to edge is done. */
  const signalWhileOnEdge = (victim: string, signal: NodeJS.Signals, handedOff = false, seconds = 60, clusterYaml?: string[]) =>
    runCluster(linger, {
      nodes: ['cloud', 'edge'],
      args: [String(seconds)],
      flags: ['--peer-timeout', '2'],
      clusterYaml,
      whileRunning: async (c) => {
        await c.printed('edge', 'edge: waiting');
        if (handedOff) await c.printed('cloud', 'Program moved to edge');
        c.procs.get(victim)!.kill(signal);
      },
    });

  test('a node that dies while it holds the program: the first node reports the program lost, exit 1', async () => {
    const run = await signalWhileOnEdge('edge', 'SIGKILL', true);
    assert.equal(run.nodes.cloud!.exitCode, 1, run.nodes.cloud!.stderr);
    assert.match(run.nodes.cloud!.stderr, /node edge, where the program was running, stopped answering; the program is lost/);
  });

  // The first node dying: test/serve/first-node-lost.test.ts.

  test('an idle node that restarts is used again: it lost the memory baseline, so it gets a whole snapshot', async () => {
    const comeback = await build('test/programs/serve/comeback.c');
    const plain = await runPlain(comeback, { args: ['4'] });
    const run = await runCluster(comeback, {
      nodes: ['cloud', 'edge'],
      args: ['4'],
      output: 'first_node',
      flags: ['--log-level', 'debug', '--peer-timeout', '20'],
      whileRunning: async (c) => {
        await c.printed('cloud', 'cloud: sleeping');
        await c.restart('edge');
      },
    });
    assert.equal(run.nodes.cloud!.exitCode, 0, run.nodes.cloud!.stderr);
    assert.equal(run.nodes.edge!.exitCode, 0, run.nodes.edge!.stderr);
    assert.equal(run.nodes.cloud!.stdout, plain.stdout);
    assert.match(run.nodes.cloud!.stderr, /sending the whole snapshot: node edge refused the snapshot/);
  });

  test('a hand-off that cannot be delivered saves the program; --resume continues it once the nodes are back', async () => {
    const comeback = await build('test/programs/serve/comeback.c');
    const plain = await runPlain(comeback, { args: ['3'] });
    const dir = join(work, 'resume');
    await mkdir(dir);
    const lost = await runCluster(comeback, {
      nodes: ['cloud', 'edge'],
      args: ['3'],
      output: 'first_node',
      dir,
      flags: ['--peer-timeout', '1'],
      whileRunning: async (c) => {
        await c.printed('cloud', 'cloud: sleeping');
        c.procs.get('edge')!.kill('SIGKILL');
      },
    });
    assert.equal(lost.nodes.cloud!.exitCode, 1);
    const saved = /The program is saved in (\S+\.kafusnap); start the nodes again and continue it with `kafu serve --node-id cloud --resume \S+ \S+`/.exec(
      lost.nodes.cloud!.stderr,
    )?.[1];
    assert.ok(saved, lost.nodes.cloud!.stderr);
    assert.equal(dirname(saved), dir, 'saved next to the config');

    const resumed = await runCluster(comeback, { nodes: ['cloud', 'edge'], args: ['3'], output: 'first_node', dir, nodeFlags: { cloud: ['--resume', saved] } });
    assert.equal(resumed.nodes.cloud!.exitCode, 0, resumed.nodes.cloud!.stderr + resumed.nodes.edge!.stderr);
    assert.equal(resumed.nodes.edge!.exitCode, 0);
    assert.ok(resumed.logs.includes(`Program is resuming on edge from ${saved}`), resumed.logs.join('\n'));
    assert.equal(lost.nodes.cloud!.stdout + resumed.nodes.cloud!.stdout, plain.stdout);

    // The wrong file, or a follower given --resume: clear errors before anything starts.
    const configPath = await clusterConfig(dir, comeback, { nodes: ['cloud', 'edge'] });
    const notSnapshot = await spawnKafu(['serve', '--node-id', 'cloud', '--resume', configPath, configPath], dir).done;
    assert.equal(notSnapshot.exitCode, 1);
    assert.match(notSnapshot.stderr, /--resume: .*kafu-config\.yaml: not a valid kafu snapshot: bad magic/);
    const follower = await spawnKafu(['serve', '--node-id', 'edge', '--resume', saved, configPath], dir).done;
    assert.match(follower.stderr, /--resume: only the first node \(cloud\) resumes a saved program/);
  });

  test('SIGTERM to one node (a pod deleted) stops every node with exit code 143', async () => {
    const run = await signalWhileOnEdge('edge', 'SIGTERM');
    assert.equal(run.nodes.edge!.exitCode, 143, run.nodes.edge!.stderr);
    assert.equal(run.nodes.cloud!.exitCode, 143, run.nodes.cloud!.stderr);
    assert.match(run.nodes.cloud!.stderr, /stopping: edge: stopped by SIGTERM/);
  });

  test('a node that never comes up: the first node gives up after --peer-timeout, naming it', async () => {
    const dir = join(work, 'absent');
    await mkdir(dir);
    const configPath = await clusterConfig(dir, linger, { nodes: ['cloud', 'edge'] });
    const r = await spawnKafu(['serve', '--node-id', 'cloud', '--peer-timeout', '1', configPath], dir).done;
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /waiting for node edge at 127\.0\.0\.1:\d+/);
    assert.match(r.stderr, /node edge \(127\.0\.0\.1:\d+\) is not reachable .*; gave up after 1 s/);
  });

  test('nodes that run different modules are refused before the program starts', async () => {
    const dir = join(work, 'mismatch');
    await mkdir(dir);
    const other = await build('test/programs/core/trap.c');
    const configPath = await clusterConfig(dir, linger, { nodes: ['cloud', 'edge'] });
    const text = await readFile(configPath, 'utf8');
    const otherConfig = join(dir, 'other.yaml');
    await writeFile(otherConfig, text.replace(JSON.stringify(linger), JSON.stringify(other)));
    const edge = spawnKafu(['serve', '--node-id', 'edge', otherConfig], dir);
    const cloud = await spawnKafu(['serve', '--node-id', 'cloud', configPath], dir).done;
    const e = await edge.done;
    assert.equal(cloud.exitCode, 1);
    assert.match(cloud.stderr, /node edge runs module [0-9a-f]{12}…, this node [0-9a-f]{12}…: every node must run the same module/);
    assert.equal(cloud.stdout, '', 'the program never started');
    assert.equal(e.exitCode, 1);
  });

  test('user mistakes: unknown node id, a port in use, neither --node-id nor --all', async () => {
    const dir = join(work, 'mistakes');
    await mkdir(dir);
    const configPath = await clusterConfig(dir, linger, { nodes: ['cloud', 'edge'] });
    const unknown = await spawnKafu(['serve', '--node-id', 'fog', configPath], dir).done;
    assert.equal(unknown.exitCode, 1);
    assert.match(unknown.stderr, /--node-id fog: .* has no such node; its nodes: cloud, edge/);

    const port = Number(/port: (\d+)/.exec(await readFile(configPath, 'utf8'))![1]);
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const busy = await spawnKafu(['serve', '--node-id', 'cloud', configPath], dir).done;
      assert.equal(busy.exitCode, 1);
      assert.match(busy.stderr, new RegExp(`node cloud: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use by another process; stop it, or change nodes\\.cloud\\.port`));
      assert.doesNotMatch(busy.stderr, /No address added/, 'grpc-js\'s raw message stays out of the user\'s way');
    } finally {
      blocker.close();
    }
    const neither = await spawnKafu(['serve', configPath], dir).done;
    assert.equal(neither.exitCode, 1);
    assert.match(neither.stderr, /give exactly one of --node-id ID and --all/);
    for (const r of [unknown, neither]) assert.doesNotMatch(r.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace');
  });
});
