// The manifests of `kafu kustomize build` run: every Job's container started as a local process from its command,
// args, env and volumes (test/support/pods.ts), Service names resolved to loopback — and the program completes
// across those processes with the right output and files, the module embedded or fetched from app.url.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeClusterCerts } from '../../src/certs/files.js';
import { kustomizeBuild } from '../../src/kustomize/build.js';
import { buildWasm } from '../support/build.js';
import { freePorts } from '../support/cluster.js';
import { freshDir } from '../support/forced.js';
import { assertPodsSucceeded, runManifests } from '../support/pods.js';

let work = '';
before(async () => {
  work = await freshDir('kafu-k8s-run-');
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * A config for nodes cloud and edge on free ports, next to a copy of `wasm` (if given); `app` lines go under `app:`.
 * With `tls`, certificates from `kafu certs`' code in DIR/certs and cluster.tls naming them; else tls: plaintext.
 */
async function k8sConfig(dir: string, wasm: string | undefined, app: string[], tls = false): Promise<string> {
  const [cloud, edge] = await freePorts(2);
  if (tls) await writeClusterCerts('k8s-test', [{ id: 'cloud', address: 'cloud', port: cloud! }, { id: 'edge', address: 'edge', port: edge! }], join(dir, 'certs'), { days: 30 });
  if (wasm !== undefined) await copyFile(wasm, join(dir, 'main.wasm'));
  const file = join(dir, 'kafu-config.yaml');
  await writeFile(
    file,
    [
      'name: k8s-test',
      'app:',
      '  path: ./main.wasm',
      ...app,
      'nodes:',
      `  cloud: { address: 127.0.0.1, port: ${cloud} }`,
      `  edge: { address: 127.0.0.1, port: ${edge}, placement: edge-site }`,
      'cluster:',
      '  heartbeat: { interval_ms: 200 }',
      ...(tls ? ['  tls:', '    ca: ./certs/ca.crt', '    cert: ./certs/${node}.crt', '    key: ./certs/${node}.key'] : ['  tls: plaintext']),
      '',
    ].join('\n'),
  );
  return file;
}

test('the example program runs to completion across the pods of its manifests, mutual TLS from a Secret', async () => {
  const dir = join(work, 'basic');
  const config = await k8sConfig(await freshDirIn(dir), await buildWasm({ sources: ['examples/basic/main.c'] }), [
    '  preopened_dir: .',
    '  output: first_node',
  ], true);
  const { yaml } = await kustomizeBuild(config, { image: 'kafu:test', instanceId: 'demo' });
  // The Secret the notes tell the operator to create, from the certs folder.
  const secret: Record<string, string> = {};
  for (const f of ['ca.crt', 'cloud.crt', 'cloud.key', 'edge.crt', 'edge.key']) secret[f] = await readFile(join(dir, 'certs', f), 'utf8');
  const pods = await runManifests(yaml, { dir: join(dir, 'pods'), secrets: { 'demo-kafu-tls': secret } });
  assert.deepEqual(Object.keys(pods).sort(), ['demo-cloud', 'demo-edge']);
  assertPodsSucceeded(pods);
  assert.equal(pods['demo-cloud']!.stdout, 'Hello, from cloud!\nHello, from edge!\nBack on cloud.\n');
  assert.match(pods['demo-cloud']!.stderr, /Migration cloud -> edge \(Entering f\)/);
});

test('app.url: every pod fetches the module itself', async () => {
  const dir = await freshDirIn(join(work, 'url'));
  const wasm = await readFile(await buildWasm({ sources: ['examples/basic/main.c'] }));
  const server = createServer((req, res) => {
    if (req.url === '/main.wasm') res.writeHead(200).end(wasm);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/main.wasm`;
    const config = await k8sConfig(dir, undefined, ['  output: first_node']);
    await writeFile(config, (await readFile(config, 'utf8')).replace('path: ./main.wasm', `url: ${url}`));
    const { yaml, notes } = await kustomizeBuild(config, { image: 'kafu:test' });
    assert.ok(!yaml.includes('binaryData'));
    assert.ok(notes.some((n) => n.includes('loopback address: each pod would ask itself')), notes.join('\n'));
    const pods = await runManifests(yaml, { dir: join(dir, 'pods'), timeoutMs: 30_000 });
    assertPodsSucceeded(pods);
    assert.equal(pods.cloud!.stdout, 'Hello, from cloud!\nHello, from edge!\nBack on cloud.\n');
  } finally {
    server.close();
  }
});

test('mounts are the pods\' volumes: files written on one pod are there on the other (a claim per node)', async () => {
  const dir = join(work, 'files');
  const wasm = await buildWasm({ sources: ['test/programs/wasi/kafu_files.c'], args: ['-O1'] });
  const config = await k8sConfig(await freshDirIn(dir), wasm, [
    '  args: [/data, files]',
    '  output: first_node',
    '  mounts:',
    '    - guest: /data',
    '      host: ./data/${node}',
  ]);
  const { yaml } = await kustomizeBuild(config, { image: 'kafu:test', claims: { '/data': '1Gi' } });
  const pods = await runManifests(yaml, { dir: join(dir, 'pods'), timeoutMs: 30_000 });
  assertPodsSucceeded(pods);
  const out = pods.cloud!.stdout;
  for (const line of ['edge wrote second half: 600 at offset 600', 'out.bin read back: 1200 bytes, 0 wrong', 'edge-made.txt on cloud: [written on edge]']) {
    assert.ok(out.includes(line), `missing "${line}" in:\n${out}`);
  }
  // Each pod's /data is its own claim; both hold the program's files as it left them.
  const log = 'cloud: start\nedge: step 1\ncloud: back\nedge: step 2\ncloud: end\n';
  assert.equal(await readFile(join(pods.cloud!.root, 'var/lib/kafu/mounts/0/log.txt'), 'utf8'), log);
  assert.equal(await readFile(join(pods.edge!.root, 'var/lib/kafu/mounts/0/log.txt'), 'utf8'), log.slice(0, log.indexOf('cloud: end')));
});

async function freshDirIn(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}
