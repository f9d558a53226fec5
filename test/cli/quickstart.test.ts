// The README's quick start, as a new user runs it: real `kafu` processes, in a copy of examples/basic.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KAFU_BIN, repoRoot } from '../support/build.js';
import { freePorts } from '../support/cluster.js';

const work = mkdtempSync(join(tmpdir(), 'kafu-quickstart-'));
after(() => rmSync(work, { recursive: true, force: true }));

function kafu(args: string[], cwd = work) {
  const r = spawnSync(process.execPath, [KAFU_BIN, ...args], { cwd, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('kafu clang then kafu singlenode serve runs examples/basic across cloud and edge', () => {
  cpSync(join(repoRoot, 'examples', 'basic'), work, { recursive: true, filter: (src) => !src.endsWith('.wasm') });
  const build = kafu(['clang', 'main.c', '-o', 'main.wasm']);
  assert.equal(build.code, 0, build.stderr);
  assert.equal(build.stdout, '', 'kafu clang keeps stdout clean');
  assert.ok(existsSync(join(work, 'main.wasm')));

  const run = kafu(['singlenode', 'serve', 'kafu-config.yaml']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'Hello, from cloud!\nHello, from edge!\nBack on cloud.\n');
  const logs = run.stderr.trim().split('\n').map((l) => l.replace(/^\S+Z\s+/, ''));
  assert.deepEqual(logs, [
    'INFO Program is starting on cloud',
    'INFO Migration cloud -> edge (Entering f)',
    'INFO Migration edge -> cloud (Returning from f)',
    'INFO Program finished on cloud (exit code 0)',
  ]);
  assert.match(run.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  INFO Program is starting on cloud$/m);

  const inspect = kafu(['inspect', 'main.wasm']);
  assert.equal(inspect.code, 0);
  assert.match(inspect.stdout, /instrumented: +yes/);
  assert.match(inspect.stdout, /f -> edge/);
});

test('kafu serve --all runs the example as one process per node, output in program order on the first node', async () => {
  assert.ok(existsSync(join(work, 'main.wasm')), 'built by the test above');
  // Free ports instead of the example's 50051/50052, so that nothing else on the machine interferes.
  const ports = await freePorts(2);
  const config = readFileSync(join(work, 'kafu-config.yaml'), 'utf8').replace('50051', String(ports[0])).replace('50052', String(ports[1]));
  writeFileSync(join(work, 'cluster.yaml'), config);
  const run = kafu(['serve', '--all', 'cluster.yaml']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'Hello, from cloud!\nHello, from edge!\nBack on cloud.\n');
  assert.match(run.stderr, /INFO \[cloud\] Program is starting on cloud$/m);
  assert.match(run.stderr, /INFO \[cloud\] Migration cloud -> edge \(Entering f\)$/m);
  assert.match(run.stderr, /INFO \[edge \] Migration edge -> cloud \(Returning from f\)$/m);
  assert.match(run.stderr, /INFO \[cloud\] Program finished on cloud \(exit code 0\)$/m);
});

test('user mistakes give one clear line and a non-zero exit, never a stack trace', () => {
  writeFileSync(join(work, 'bad.yaml'), 'name: x\napp:\n  path: ./main.wasm\nnodes:\n  cloud: { address: 127.0.0.1, port: high }\n');
  const cases = [
    { args: ['singlenode', 'serve', 'bad.yaml'], want: /bad\.yaml:5: nodes\.cloud\.port: port must be a number \(from 1 to 65535\)/ },
    { args: ['singlenode', 'serve', 'missing.yaml'], want: /cannot read config missing\.yaml: ENOENT/ },
    { args: ['inspect', 'missing.wasm'], want: /cannot read missing\.wasm/ },
    { args: ['inspect', 'bad.yaml'], want: /not a WebAssembly module/ },
    { args: ['run', 'missing.wasm'], want: /cannot read missing\.wasm/ },
    { args: ['singlenode', 'serve', 'kafu-config.yaml', '--force-migration-every', 'zero'], want: /whole number/ },
    { args: ['no-such-command'], want: /unknown command/ },
    { args: ['serve', '--node-id', 'fog', 'kafu-config.yaml'], want: /--node-id fog: kafu-config\.yaml has no such node; its nodes: cloud, edge/ },
    { args: ['serve', 'kafu-config.yaml'], want: /give exactly one of --node-id ID and --all/ },
    { args: ['serve', '--all', 'bad.yaml'], want: /bad\.yaml:5: nodes\.cloud\.port: port must be a number \(from 1 to 65535\)/ },
    { args: ['serve', '--all', '--peer-timeout', '0', 'kafu-config.yaml'], want: /whole number ≥ 1/ },
    { args: ['clang'], want: /no input files/ },
    { args: ['clang', 'missing.c', '-o', 'm.wasm'], want: /^clang: error: no such file or directory: 'missing\.c'$/m },
  ];
  for (const c of cases) {
    const r = kafu(c.args);
    assert.notEqual(r.code, 0, `${c.args.join(' ')} should fail`);
    assert.match(r.stderr, c.want, c.args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace for ${c.args.join(' ')}`);
  }
});

test('every command answers --help', () => {
  for (const args of [['--help'], ['clang', '--help'], ['clang++', '--help'], ['singlenode', '--help'], ['singlenode', 'serve', '--help'], ['serve', '--help'], ['run', '--help'], ['inspect', '--help'], ['doctor', '--help']]) {
    const r = kafu(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Usage: kafu/, args.join(' '));
  }
  assert.match(kafu(['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
});
