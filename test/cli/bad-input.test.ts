// Bad input never ends in a stack trace (issue #10, item 7): each case the issue listed, re-checked as a real `kafu`
// process. Modules that fail to instantiate under `kafu run` (an import of the wrong kind; a start function that
// traps), truncated modules and a kafu.meta that is not JSON under `kafu singlenode serve`, a YAML alias bomb, and a
// .kafusnap whose header has no moduleSha256 given to `kafu serve --resume`: each is one clear line and a non-zero
// exit (134 for a trap, as wasmtime), and a module importing spectest runs under `kafu run`. And two nodes of a config
// on one address:port are refused by `kafu serve`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import binaryen from 'binaryen';
import { memoryImage, PAGE_SIZE } from '../../src/core/snapshot.js';
import { encodeTransfer } from '../../src/core/transfer.js';
import { concat } from '../../src/core/wasm-sections.js';
import { buildWasm } from '../support/build.js';
import { clusterConfig, spawnKafu } from '../support/cluster.js';
import { fuzzHeader } from '../support/fuzz.js';

const T = { timeout: 120_000 };

/** A module from WebAssembly text. */
const wat = (text: string): Uint8Array => {
  const m = binaryen.parseText(text);
  try {
    return m.emitBinary();
  } finally {
    m.dispose();
  }
};

const MODULES: Record<string, string> = {
  spectest: '(module (import "spectest" "print_i32" (func $p (param i32))) (memory (export "memory") 1) (func (export "_start") (call $p (i32.const 42))))',
  linkerr: '(module (import "wasi_snapshot_preview1" "fd_write" (global i32)) (memory (export "memory") 1) (func (export "_start")))',
  starttrap: '(module (memory (export "memory") 1) (func $s unreachable) (start $s) (func (export "_start")))',
  unknown: '(module (import "env" "foo" (func $f)) (memory (export "memory") 1) (func (export "_start") (call $f)))',
};

const noTrace = (stderr: string) => assert.doesNotMatch(stderr, /\n\s+at .*(file:|node:)|^\w*Error: /m, stderr);

describe('bad input: one clear line, never a stack trace', { concurrency: 1 }, () => {
  let dir = '';
  let kafuModule: Uint8Array = new Uint8Array();
  let kafuPath = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kafu-bad-input-'));
    for (const [name, text] of Object.entries(MODULES)) await writeFile(join(dir, `${name}.wasm`), wat(text));
    kafuPath = await buildWasm({ sources: ['examples/basic/main.c'], args: ['-O1'] });
    kafuModule = new Uint8Array(await readFile(kafuPath));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const config = async (name: string, body: string) => {
    const file = join(dir, `${name}.yaml`);
    await writeFile(file, body);
    return file;
  };
  const app = (wasm: string) =>
    `name: bad\napp:\n  path: ./${wasm}\nnodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n  edge: { address: 127.0.0.1, port: 50052 }\n`;

  test('kafu run: an import of the wrong kind, a trapping start function, an unknown import; spectest is provided', T, async () => {
    const run = (name: string) => spawnKafu(['run', `${name}.wasm`], dir).done;
    const link = await run('linkerr');
    assert.equal(link.exitCode, 1);
    assert.match(link.stderr, /^kafu: error: linkerr\.wasm cannot be instantiated: .*fd_write.*\n$/);
    const trap = await run('starttrap');
    assert.equal(trap.exitCode, 134);
    assert.match(trap.stderr, /^kafu run: the program trapped: unreachable\n/);
    noTrace(trap.stderr);
    const unknown = await run('unknown');
    assert.equal(unknown.exitCode, 1);
    assert.equal(unknown.stderr, 'kafu: error: unknown.wasm imports env.foo, which kafu run does not provide\n');
    const spectest = await run('spectest');
    assert.equal(spectest.exitCode, 0, spectest.stderr);
  });

  test('kafu singlenode serve and kafu run: truncated modules, a kafu.meta that is not JSON, a YAML alias bomb', T, async () => {
    for (const cut of [8, 100, kafuModule.length >> 1, kafuModule.length - 1]) {
      await writeFile(join(dir, 'cut.wasm'), kafuModule.subarray(0, cut));
      const single = await spawnKafu(['singlenode', 'serve', await config('cut', app('cut.wasm'))], dir).done;
      assert.equal(single.exitCode, 1, `cut at ${cut}: ${single.stderr}`);
      assert.match(single.stderr, /^kafu: error: .*cut\.wasm.*\n$/, `cut at ${cut}`);
      const run = await spawnKafu(['run', 'cut.wasm'], dir).done;
      assert.equal(run.exitCode, 1, `cut at ${cut}: ${run.stderr}`);
      assert.match(run.stderr, /^kafu: error: cut\.wasm.*\n$/, `cut at ${cut}`);
    }
    const at = Buffer.from(kafuModule).indexOf('kafu.meta') + 'kafu.meta'.length;
    const meta = kafuModule.slice();
    meta.fill('{'.charCodeAt(0), at, at + 20);
    await writeFile(join(dir, 'meta.wasm'), meta);
    const single = await spawnKafu(['singlenode', 'serve', await config('meta', app('meta.wasm'))], dir).done;
    assert.equal(single.exitCode, 1);
    assert.match(single.stderr, /^kafu: error: .*meta\.wasm: its kafu\.meta section is not JSON; rebuild it with `kafu clang`\n$/);
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) levels.push(`l${i}: &l${i} [${Array(9).fill(i === 1 ? '*a' : `*l${i - 1}`).join(',')}]`);
    const bomb = await spawnKafu(['singlenode', 'serve', await config('bomb', `${levels.join('\n')}\n${app('meta.wasm')}`)], dir).done;
    assert.equal(bomb.exitCode, 1);
    assert.match(bomb.stderr, /^kafu: error: invalid YAML in config\n  .*bomb\.yaml: .*alias/);
    noTrace(bomb.stderr);
  });

  test('kafu serve --all: two nodes on one address and port are refused in one line, before any node starts', T, async () => {
    const twice = 'name: bad\napp:\n  path: ./spectest.wasm\nnodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n  edge: { address: 127.0.0.1, port: 50051 }\ncluster:\n  tls: plaintext\n';
    const r = await spawnKafu(['serve', '--all', await config('twice', twice)], dir).done;
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, /^kafu: error: invalid config\n  .*twice\.yaml:6: nodes\.edge\.port: 127\.0\.0\.1:50051 is also node cloud's: give each node its own port\n$/);
  });

  test('kafu serve --resume: a snapshot header without moduleSha256 is refused in one line', T, async () => {
    const sha = createHash('sha256').update(kafuModule).digest('hex');
    const configPath = await clusterConfig(dir, kafuPath, { nodes: ['cloud', 'edge'] });
    const header: Partial<ReturnType<typeof fuzzHeader>> = fuzzHeader(sha, 'cloud');
    delete header.moduleSha256;
    const bytes = concat(encodeTransfer(
      { header: header as ReturnType<typeof fuzzHeader>, memory: memoryImage(new Uint8Array(2 * PAGE_SIZE)), blobs: [] },
      { compression: true },
    ).chunks);
    const file = join(dir, 'nosha.kafusnap');
    await writeFile(file, bytes);
    const r = await spawnKafu(['serve', '--node-id', 'cloud', '--resume', file, configPath], dir).done;
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, /--resume: .*nosha\.kafusnap.*moduleSha256/);
    noTrace(r.stderr);
  });

  test('kafu serve --resume: a snapshot for a node the config does not have is refused in one line, naming the file', T, async () => {
    const sha = createHash('sha256').update(kafuModule).digest('hex');
    const configPath = await clusterConfig(dir, kafuPath, { nodes: ['cloud', 'edge'] });
    const bytes = concat(encodeTransfer(
      { header: fuzzHeader(sha, 'fog'), memory: memoryImage(new Uint8Array(2 * PAGE_SIZE)), blobs: [] },
      { compression: true },
    ).chunks);
    const file = join(dir, 'fog.kafusnap');
    await writeFile(file, bytes);
    const r = await spawnKafu(['serve', '--node-id', 'cloud', '--resume', file, configPath], dir).done;
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, /--resume: .*fog\.kafusnap holds a program stopped for node fog, which the config does not have \(nodes: cloud, edge\)/);
    noTrace(r.stderr);
  });
});
