// Start-up cost: a command loads only the libraries its path needs (README "Start-up"). Checked on real processes:
// a preload records every CommonJS module the process loaded (gRPC, X.509, ws and onnxruntime are CommonJS, so
// each shows in require.cache), and, for the program worker (a thread the preload does not reach), by walking the
// static imports of the compiled worker.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { KAFU_BIN, buildWasm } from '../support/build.js';
import { freePorts } from '../support/cluster.js';

const work = mkdtempSync(join(tmpdir(), 'kafu-lazy-'));
after(() => rmSync(work, { recursive: true, force: true }));

const PRELOAD =
  "import{createRequire}from'node:module';import{writeFileSync}from'node:fs';" +
  "const c=createRequire(process.cwd()+'/').cache;" +
  "process.on('exit',()=>writeFileSync(process.env.KAFU_TEST_LOADED+'/'+process.pid,process.argv.slice(2).join(' ')+'\\n'+Object.keys(c).join('\\n')))";

/** The packages each `kafu` process of the command loaded (by its arguments), children included. */
function packagesLoaded(args: string[], cwd = work): Map<string, Set<string>> {
  const dir = mkdtempSync(join(work, 'loaded-'));
  const r = spawnSync(process.execPath, [KAFU_BIN, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, KAFU_TEST_LOADED: dir, NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(PRELOAD)}` },
  });
  assert.equal(r.status, 0, `kafu ${args.join(' ')}: ${r.stderr}`);
  const byProcess = new Map<string, Set<string>>();
  for (const f of readdirSync(dir)) {
    const [argv = '', ...files] = readFileSync(join(dir, f), 'utf8').split('\n');
    byProcess.set(argv, new Set(files.flatMap((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p)?.[1] ?? [])));
  }
  assert.ok(byProcess.size > 0, 'the preload recorded nothing');
  return byProcess;
}

const HEAVY = ['@grpc/grpc-js', 'protobufjs', '@peculiar/x509', 'ws', 'onnxruntime-node'];

test('kafu --version, serve --help and certs --help load none of gRPC, X.509, ws, onnxruntime', { timeout: 60_000 }, () => {
  for (const args of [['--version'], ['serve', '--help'], ['certs', '--help']]) {
    for (const [argv, pkgs] of packagesLoaded(args)) {
      assert.ok(pkgs.has('commander'), `${argv}: the preload saw the CLI load`);
      for (const p of HEAVY) assert.ok(!pkgs.has(p), `kafu ${argv} loaded ${p}`);
    }
  }
});

test('serve --all (plaintext, no browser node, no model): nodes load gRPC but not X.509, ws or onnxruntime', { timeout: 90_000 }, async () => {
  const wasm = await buildWasm({ sources: ['examples/basic/main.c'] });
  const [cloud, edge] = await freePorts(2);
  writeFileSync(
    join(work, 'kafu-config.yaml'),
    `name: lazy\ncluster: { tls: plaintext }\napp:\n  path: ${wasm}\nnodes:\n  cloud: { address: 127.0.0.1, port: ${cloud} }\n  edge: { address: 127.0.0.1, port: ${edge} }\n`,
  );
  const loaded = packagesLoaded(['serve', '--all', '--peer-timeout', '10', 'kafu-config.yaml']);
  const nodes = [...loaded].filter(([argv]) => argv.includes('--node-id'));
  assert.equal(nodes.length, 2, [...loaded.keys()].join('\n'));
  for (const [argv, pkgs] of loaded) {
    assert.equal(pkgs.has('@grpc/grpc-js'), argv.includes('--node-id'), `${argv}: gRPC is for nodes only`);
    for (const p of HEAVY.slice(2)) assert.ok(!pkgs.has(p), `kafu ${argv} loaded ${p}`);
  }
});

/** Every local module `entry` imports statically (compiled JS), and the packages they name. */
function staticImports(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const code = readFileSync(file, 'utf8');
    // Static imports only (`import … from '…'`, `export … from '…'`, `import '…'`); `import('…')` is lazy.
    for (const m of code.matchAll(/^\s*(?:import|export)\s(?:[^'"()]*?\sfrom\s)?['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:')) packages.add(/^(?:@[^/]+\/)?[^/]+/.exec(spec)![0]);
    }
  };
  visit(entry);
  return { files, packages };
}

test('the program worker imports neither gRPC nor ws (each node starts one before any program arrives)', () => {
  const worker = join(dirname(KAFU_BIN), '..', 'dist', 'src', 'serve', 'worker.js');
  assert.ok(existsSync(worker), worker);
  const { files, packages } = staticImports(worker);
  assert.ok(files.size > 10 && packages.has('zod'), 'the walk follows the imports');
  for (const p of ['@grpc/grpc-js', '@grpc/proto-loader', 'ws', '@peculiar/x509']) assert.ok(!packages.has(p), `the worker imports ${p}`);
});
