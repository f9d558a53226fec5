// Mistakes a user makes, reported as one UserError that says what to fix: a KAFU_DEST naming a node the config
// lacks, a module not built by `kafu clang`, and config-file errors (field and file:line).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../src/core/errors.js';
import { parseConfigText } from '../../src/node/config-file.js';
import { runMigrating, runPlain } from '../support/run.js';
import { buildPair } from './common.js';

test('a KAFU_DEST naming a node missing from the config, and an uninstrumented module, are refused at start', async () => {
  const pair = await buildPair({ sources: ['examples/basic/main.c'] });
  await assert.rejects(runMigrating(pair.instrumented, { nodes: ['cloud', 'fog'] }), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, /KAFU_DEST\(f, "edge"\)/);
    assert.match(e.message, /configured nodes: cloud, fog$/);
    return true;
  });
  await assert.rejects(runMigrating(pair.plain, { nodes: ['cloud', 'edge'] }), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, /`kafu clang`/);
    assert.match(e.message, /main\.wasm/, 'names the module');
    return true;
  });
  // `kafu run` takes either build; the instrumented one passes its migration points without moving.
  const plainRun = await runPlain(pair.plain);
  const instrumentedRun = await runPlain(pair.instrumented);
  assert.deepEqual(instrumentedRun, plainRun);
  assert.deepEqual(plainRun, { stdout: 'Hello, from cloud!\nHello, from edge!\nBack on cloud.\n', stderr: '', exitCode: 0 });
});

const FILE = 'conf/kafu-config.yaml';
const NODES = 'nodes:\n  cloud:\n    address: 127.0.0.1\n    port: 50051\n';

function configError(text: string): string {
  try {
    parseConfigText(text, FILE);
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    return e.message;
  }
  assert.fail(`config accepted:\n${text}`);
}

test('config errors name the field and file:line', () => {
  const at = (line: number, rest: string) => new RegExp(`^invalid config\\n  conf/kafu-config\\.yaml:${line}: ${rest}$`);
  // missing name: reported at the document's first line
  assert.match(configError(`app:\n  path: ./m.wasm\n${NODES}`), at(1, 'name: name is required'));
  // unknown keys, at their own lines: in app, in a node, at the top level
  assert.match(configError(`name: x\napp:\n  path: ./m.wasm\n  bogus: 1\n${NODES}`), at(4, 'app\\.bogus: unknown key\\(s\\): bogus'));
  assert.match(
    configError(`name: x\napp:\n  path: ./m.wasm\n${NODES}    colour: red\n`),
    at(8, 'nodes\\.cloud\\.colour: unknown key\\(s\\): colour'),
  );
  assert.match(configError(`name: x\napp:\n  path: ./m.wasm\n${NODES}extra: 1\n`), at(8, 'extra: unknown key\\(s\\): extra'));
  // both path and url; neither
  assert.match(
    configError(`name: x\napp:\n  path: ./m.wasm\n  url: https://example.com/m.wasm\n${NODES}`),
    at(3, 'app: exactly one of app\\.path and app\\.url must be given'),
  );
  assert.match(configError(`name: x\napp:\n  args: []\n${NODES}`), at(3, 'app: exactly one of app\\.path and app\\.url must be given'));
  // port not a number
  assert.match(
    configError(`name: x\napp:\n  path: ./m.wasm\nnodes:\n  cloud:\n    address: 127.0.0.1\n    port: fifty\n`),
    at(7, 'nodes\\.cloud\\.port: port must be a number \\(from 1 to 65535\\)'),
  );
  // a port out of range says the range; two nodes on one address and port; a heartbeat past Node's longest timer
  assert.match(
    configError(`name: x\napp:\n  path: ./m.wasm\nnodes:\n  cloud:\n    address: 127.0.0.1\n    port: -5\n`),
    at(7, 'nodes\\.cloud\\.port: port must be a whole number from 1 to 65535'),
  );
  assert.match(
    configError(`name: x\napp:\n  path: ./m.wasm\n${NODES}  edge:\n    address: 127.0.0.1\n    port: 50051\n`),
    at(10, "nodes\\.edge\\.port: 127\\.0\\.0\\.1:50051 is also node cloud's: give each node its own port"),
  );
  assert.doesNotThrow(() => parseConfigText(`name: x\napp:\n  path: ./m.wasm\n${NODES}  edge:\n    address: 10.0.0.2\n    port: 50051\n`, FILE));
  assert.match(
    configError(`name: x\napp:\n  path: ./m.wasm\n${NODES}cluster:\n  heartbeat: { interval_ms: 2147483648 }\n`),
    at(9, 'cluster\\.heartbeat\\.interval_ms: interval_ms must be a whole number from 10 to 2147483647'),
  );
  // empty nodes; no nodes at all
  assert.match(configError(`name: x\napp:\n  path: ./m.wasm\nnodes: {}\n`), at(4, 'nodes: at least one node is required'));
  assert.match(configError(`name: x\napp:\n  path: ./m.wasm\n`), at(1, 'nodes: nodes is required'));
  // empty name, empty address
  assert.match(configError(`name: ""\napp:\n  path: ./m.wasm\n${NODES}`), at(1, 'name: name must not be empty'));
  assert.match(
    configError(`name: x\napp:\n  path: ./m.wasm\nnodes:\n  cloud:\n    address: ""\n    port: 1\n`),
    at(6, 'nodes\\.cloud\\.address: address must not be empty'),
  );
  // kafu serve's keys: app.output, cluster.migration.memory_compression
  assert.match(configError(`name: x\napp:\n  path: ./m.wasm\n  output: everywhere\n${NODES}`), at(4, 'app\\.output: output must be local or first_node'));
  assert.match(
    configError(`name: x\napp:\n  path: ./m.wasm\n${NODES}cluster:\n  migration:\n    memory_compression: lz4\n`),
    at(10, 'cluster\\.migration\\.memory_compression: memory_compression must be true, false or deflate'),
  );
  // cluster.tls: plaintext or { ca, cert, key }, each mistake named; node ids that could name a path are refused
  assert.match(configError(`name: x\napp:\n  path: ./m.wasm\n${NODES}cluster:\n  tls: { ca: a, cert: b }\n`), at(9, 'cluster\\.tls\\.key: key is required'));
  assert.match(configError(`name: x\napp:\n  path: ./m.wasm\n${NODES}cluster:\n  tls: plain\n`), at(9, 'cluster\\.tls: tls must be a map \\{ ca, cert, key \\} of PEM files, or plaintext'));
  assert.match(configError(`name: x\napp:\n  path: ./m.wasm\nnodes:\n  ../up:\n    address: a\n    port: 1\n`), /nodes\.\.\.\/up: node id "\.\.\/up": use letters/);
  assert.equal(parseConfigText(`name: x\napp:\n  path: ./m.wasm\n${NODES}cluster:\n  tls: plaintext\n`, FILE).config.cluster.tls, 'plaintext');
  // the original's spellings: numbers as args, an empty `args:`
  assert.deepEqual(parseConfigText(`name: x\napp:\n  path: ./m.wasm\n  args: [960, 540, s]\n${NODES}`, FILE).config.app.args, ['960', '540', 's']);
  assert.deepEqual(parseConfigText(`name: x\napp:\n  path: ./m.wasm\n  args:\n${NODES}`, FILE).config.app.args, []);
  assert.match(configError(`name: x\napp:\n  path: ./m.wasm\n  args: [{ a: 1 }]\n${NODES}`), /app\.args\.0: each arg must be a string or a number/);
  // the original's Option fields left empty (`preopened_dir: null`, as in its test fixtures; a bare `placement:`)
  const nulls = parseConfigText(`name: x\napp:\n  path: ./m.wasm\n  url: null\n  preopened_dir: null\nnodes:\n  cloud:\n    address: a\n    port: 1\n    placement:\n`, FILE);
  assert.deepEqual(nulls.mounts, []);
  assert.equal(nulls.config.nodes[0]!.placement, undefined);
  assert.match(configError(`name: x\napp:\n  path: null\n${NODES}`), at(3, 'app: exactly one of app\\.path and app\\.url must be given'));
  // and its aliases of memory_compression (serde's `delta_compression`, `memroy_compression`), one spelling at a time
  const alias = parseConfigText(`name: x\napp:\n  path: ./m.wasm\n${NODES}cluster:\n  migration: { delta_compression: false }\n`, FILE);
  assert.equal(alias.config.cluster.migration.memory_compression, false);
  const typo = parseConfigText(`name: x\napp:\n  path: ./m.wasm\n${NODES}cluster:\n  migration: { memroy_compression: false }\n`, FILE);
  assert.equal(typo.config.cluster.migration.memory_compression, false);
  assert.match(
    configError(`name: x\napp:\n  path: ./m.wasm\n${NODES}cluster:\n  migration: { memory_compression: true, delta_compression: false }\n`),
    /cluster\.migration\.delta_compression: delta_compression is another spelling of memory_compression: give one of them/,
  );
  // several problems: one line each
  assert.equal(configError('').split('\n').length, 4);
  // YAML syntax
  assert.match(configError(`name: x\napp:\n  path: [\n`), /^invalid YAML in config\n  conf\/kafu-config\.yaml:\d+:\d+: /);
  // each fault said once (the parser reports some twice), and a document of faults cut at five lines
  const twice = configError('{{{').split('\n');
  assert.equal(new Set(twice).size, twice.length, twice.join('\n'));
  const many = configError('a: [\n'.repeat(300)).split('\n');
  assert.equal(many.length, 7, many.join('\n'));
  assert.match(many[6]!, /^  … and \d+ more$/);

  // and a good config parses, nodes in file order, paths resolved against the config's folder
  const ok = parseConfigText(`name: x\napp:\n  path: ./m.wasm\n  preopened_dir: data\nnodes:\n  z9:\n    address: a\n    port: 2\n  "10":\n    address: b\n    port: 3\n`, '/srv/app/kafu-config.yaml');
  assert.deepEqual(ok.config.nodes.map((n) => n.id), ['z9', '10']);
  assert.equal(ok.modulePath, '/srv/app/m.wasm');
  assert.deepEqual(ok.mounts, [{ guest: '/', host: '/srv/app/data', mode: 'follow' }]);
  assert.equal(ok.config.app.output, 'local');
  assert.deepEqual(ok.config.cluster.migration, { memory_migration: 'delta', memory_compression: true, max_state_mb: 1024, precopy: 'auto', precopy_after_ms: 100, precopy_interval_ms: 250 });
  const deflate = parseConfigText(`name: x\napp:\n  path: ./m.wasm\n${NODES}cluster:\n  migration: { memory_compression: deflate }\n`, FILE);
  assert.equal(deflate.config.cluster.migration.memory_compression, 'deflate');
});
