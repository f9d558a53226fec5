// `kafu kustomize build`: every object valid against the Kubernetes API schemas (kubernetes-models, offline),
// each node reachable at its own port through its Service, placement, instance prefixes, byte-identical output,
// the module embedded or fetched, and clear errors for what cannot be deployed. Through `kubectl kustomize` when
// kubectl is installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments } from 'yaml';
import { UserError } from '../core/errors.js';
import { buildWasm, KAFU_BIN } from '../../test/support/build.js';
import { CONFIGMAP_LIMIT, kustomizeBuild, type KustomizeOptions } from './build.js';

// Parsed manifests, checked field by field below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const MODELS: Record<string, new (data: Any) => { validate(): void }> = {
  ConfigMap,
  Service,
  Job,
  PersistentVolumeClaim,
};

let work = '';
let wasm = '';
before(async () => {
  work = mkdtempSync(join(tmpdir(), 'kafu-kustomize-'));
  wasm = await buildWasm({ sources: ['examples/basic/main.c'] });
});
after(() => rmSync(work, { recursive: true, force: true }));

let dirs = 0;
/** A folder with kafu-config.yaml (`yaml`) and main.wasm (the example, unless `module` is given). */
function configDir(yaml: string, module?: Uint8Array): string {
  const dir = join(work, `c${++dirs}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'kafu-config.yaml'), yaml);
  if (module) writeFileSync(join(dir, 'main.wasm'), module);
  else copyFileSync(wasm, join(dir, 'main.wasm'));
  return join(dir, 'kafu-config.yaml');
}

const EXAMPLE = `# the example's
name: basic
app:
  path: ./main.wasm
  args: []
  preopened_dir: .
  output: first_node
nodes:
  cloud:
    address: 127.0.0.1
    port: 50051
  edge: { address: 10.0.0.7, port: 7000, placement: edge-site }
cluster:
  tls: plaintext
`;

async function build(yaml: string, o: Partial<KustomizeOptions> = {}, module?: Uint8Array) {
  const r = await kustomizeBuild(configDir(yaml, module), { image: 'registry.example/kafu:1', ...o });
  return { ...r, objects: parseAllDocuments(r.yaml).map((d) => d.toJS() as Any) };
}

const ofKind = (objects: Any[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: Any[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

function validateAll(objects: Any[]): void {
  for (const o of objects) {
    const Model = MODELS[o.kind];
    assert.ok(Model, `unexpected kind ${o.kind}`);
    assert.doesNotThrow(() => new Model(o).validate(), `${o.kind} ${o.metadata.name}`);
  }
}

test('every object is valid against the Kubernetes API schemas', async () => {
  const { objects } = await build(
    EXAMPLE.replace('  output: first_node\n', '  output: first_node\n  mounts:\n    - guest: /data\n      host: ./data/${node}\n      mode: node-local\n'),
    { instanceId: 'demo', claims: { '/data': '2Gi' }, requests: { cpu: '250m' }, limits: { memory: '1Gi' } },
  );
  assert.deepEqual(
    objects.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      'ConfigMap/demo-kafu-config',
      'ConfigMap/demo-kafu-module',
      'Service/demo-cloud',
      'PersistentVolumeClaim/demo-cloud-mount-1',
      'Job/demo-cloud',
      'Service/demo-edge',
      'PersistentVolumeClaim/demo-edge-mount-1',
      'Job/demo-edge',
    ],
  );
  validateAll(objects);
  // The schemas do catch a bad value (the check is not vacuous).
  const job = structuredClone(named(objects, 'Job', 'demo-cloud'));
  job.spec.template.spec.containers[0].readinessProbe.grpc.port = 'grpc';
  assert.throws(() => new Job(job).validate(), /port must be integer/);
  const c = named(objects, 'Job', 'demo-edge').spec.template.spec.containers[0];
  assert.deepEqual(c.resources, { requests: { cpu: '250m' }, limits: { memory: '1Gi' } });
});

test('each node is reachable at its own port: Service port, container port, probes and the pods\' config agree', async () => {
  const { objects } = await build(EXAMPLE);
  const podConfig = parse(named(objects, 'ConfigMap', 'kafu-config').data['kafu-config.yaml']);
  for (const [id, port] of [['cloud', 50051], ['edge', 7000]] as const) {
    const svc = named(objects, 'Service', id);
    const c = named(objects, 'Job', id).spec.template.spec.containers[0];
    assert.deepEqual(svc.spec.ports, [{ name: 'grpc', protocol: 'TCP', port, targetPort: 'grpc' }]);
    assert.deepEqual(c.ports, [{ name: 'grpc', containerPort: port, protocol: 'TCP' }]);
    assert.deepEqual(c.readinessProbe.grpc, { port });
    assert.deepEqual(c.livenessProbe.grpc, { port });
    assert.deepEqual(podConfig.nodes[id], { address: id, port, ...(id === 'edge' ? { placement: 'edge-site' } : {}) });
    assert.deepEqual(c.args, ['serve', '--node-id', id, '--listen', '0.0.0.0', '--peer-timeout', '300', 'kafu-config.yaml']);
    // The Service selects exactly this node's pod.
    const labels = named(objects, 'Job', id).spec.template.metadata.labels;
    for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(labels[k], v);
  }
  assert.deepEqual(named(objects, 'Job', 'cloud').spec.template.spec.nodeSelector, { 'kafu-node': 'cloud' });
  assert.deepEqual(named(objects, 'Job', 'edge').spec.template.spec.nodeSelector, { 'kafu-node': 'edge-site' });
  // The pods' config keeps the user's comments and settings; paths are the pods' volumes.
  const text = named(objects, 'ConfigMap', 'kafu-config').data['kafu-config.yaml'] as string;
  assert.match(text, /# the example's/);
  assert.equal(podConfig.app.path, './module/main.wasm');
  assert.equal(podConfig.app.preopened_dir, './mounts/0');
  assert.equal(podConfig.app.output, 'first_node');
});

test('a config with YAML aliases: every node still gets its own Service as its address', async () => {
  const yaml = 'name: a\napp:\n  path: ./main.wasm\n  mounts:\n    - { guest: /data, host: &h ./d }\n' +
    'nodes:\n  cloud: { address: &a 127.0.0.1, port: 50051 }\n  edge: { address: *a, port: 50052 }\ncluster:\n  tls: plaintext\n';
  const { objects } = await build(yaml);
  const podConfig = parse(named(objects, 'ConfigMap', 'kafu-config').data['kafu-config.yaml']);
  assert.deepEqual(podConfig.nodes, { cloud: { address: 'cloud', port: 50051 }, edge: { address: 'edge', port: 50052 } });
  assert.deepEqual(podConfig.app.mounts, [{ guest: '/data', host: './mounts/0' }]);
  // One map for two nodes (`edge: *n`) is one address and port for both: refused, as by kafu serve.
  const shared = 'name: a\napp:\n  path: ./main.wasm\nnodes:\n  cloud: &n { address: 127.0.0.1, port: 50051 }\n  edge: *n\ncluster:\n  tls: plaintext\n';
  await assert.rejects(build(shared), /nodes\.edge\.port: 127\.0\.0\.1:50051 is also node cloud's: give each node its own port/);
});

test('--instance-id prefixes every name and labels every object: two instances share a namespace', async () => {
  const a = await build(EXAMPLE, { instanceId: 'blue' });
  const b = await build(EXAMPLE, { instanceId: 'green' });
  for (const o of a.objects) {
    assert.match(o.metadata.name, /^blue-/);
    assert.equal(o.metadata.labels['kafu-instance'], 'blue');
  }
  const names = new Set(a.objects.map((o) => `${o.kind}/${o.metadata.name}`));
  assert.ok(b.objects.every((o) => !names.has(`${o.kind}/${o.metadata.name}`)));
  // blue's Services select none of green's pods.
  for (const svc of ofKind(a.objects, 'Service')) {
    for (const job of ofKind(b.objects, 'Job')) {
      const labels = job.spec.template.metadata.labels;
      assert.ok(Object.entries(svc.spec.selector).some(([k, v]) => labels[k] !== v));
    }
  }
  assert.equal(parse(named(a.objects, 'ConfigMap', 'blue-kafu-config').data['kafu-config.yaml']).nodes.edge.address, 'blue-edge');
  const volumes = named(a.objects, 'Job', 'blue-cloud').spec.template.spec.volumes;
  assert.deepEqual(volumes.filter((v: Any) => v.configMap).map((v: Any) => v.configMap.name), ['blue-kafu-config', 'blue-kafu-module']);
});

test('the same input gives byte-identical output, from the CLI in any folder too', async () => {
  const file = configDir(EXAMPLE);
  const o = { image: 'kafu:1', instanceId: 'x' };
  const first = await kustomizeBuild(file, o);
  assert.equal((await kustomizeBuild(file, o)).yaml, first.yaml);
  const cli = spawnSync(process.execPath, [KAFU_BIN, 'kustomize', 'build', 'kafu-config.yaml', '--image', 'kafu:1', '--instance-id', 'x'], {
    cwd: join(file, '..'),
    encoding: 'utf8',
  });
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(cli.stdout, first.yaml);
  assert.match(cli.stderr, /note: the pods run on cluster nodes labelled kafu-node=cloud, kafu-node=edge-site/);
});

describe('the module', () => {
  test('app.url: the nodes fetch it; nothing embedded', async () => {
    const { objects } = await build(EXAMPLE.replace('path: ./main.wasm', 'url: https://example.com/m.wasm'));
    assert.equal(named(objects, 'ConfigMap', 'kafu-module'), undefined);
    const podConfig = parse(named(objects, 'ConfigMap', 'kafu-config').data['kafu-config.yaml']);
    assert.equal(podConfig.app.url, 'https://example.com/m.wasm');
    assert.ok(!named(objects, 'Job', 'cloud').spec.template.spec.volumes.some((v: Any) => v.name === 'module'));
  });

  test('over the ConfigMap limit: a clear error that names app.url', async () => {
    await assert.rejects(build(EXAMPLE, {}, new Uint8Array(CONFIGMAP_LIMIT + 1)), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /app\.path: the module is 1\.00 MiB, too large .* give app\.url instead/);
      return true;
    });
  });

  test('missing, not a Kafu module, or naming a node the config lacks: refused before any manifest', async () => {
    const dir = join(configDir(EXAMPLE), '..');
    rmSync(join(dir, 'main.wasm'));
    await assert.rejects(kustomizeBuild(join(dir, 'kafu-config.yaml'), { image: 'k' }), /app\.path: cannot read .*main\.wasm/);
    await assert.rejects(build(EXAMPLE, {}, new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])), UserError);
    await assert.rejects(build(EXAMPLE.replace('edge: {', 'fog: {')), /KAFU_DEST\(f, "edge"\)/);
  });
});

test('what cannot be deployed is a UserError naming it', async () => {
  const cases: [string, Partial<KustomizeOptions>, RegExp][] = [
    [EXAMPLE.replace('  cloud:\n', '  Cloud_1:\n'), {}, /node Cloud_1: "Cloud_1" cannot name a Kubernetes object/],
    [EXAMPLE, { instanceId: 'Blue!' }, /--instance-id: "Blue!" cannot name/],
    [EXAMPLE, { claims: { '/nope': '1Gi' } }, /--claim \/nope: the config has no mount at \/nope; its mounts: \//],
    [EXAMPLE, { claims: { '/': 'lots' } }, /--claim \/: "lots" is not a Kubernetes quantity/],
    [EXAMPLE.replace('placement: edge-site', 'placement: "edge site"'), {}, /node edge: placement: "edge site" is not a Kubernetes label value/],
    [EXAMPLE, { image: 'a b' }, /--image "a b"/],
  ];
  for (const [yaml, o, message] of cases) {
    await assert.rejects(build(yaml, o), (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      assert.match(e.message, message);
      return true;
    });
  }
  // The CLI: one line, exit code 1, nothing on stdout.
  const file = configDir(EXAMPLE);
  const cli = spawnSync(process.execPath, [KAFU_BIN, 'kustomize', 'build', file, '--requests', 'cpu=fast'], { encoding: 'utf8' });
  assert.equal(cli.status, 1);
  assert.equal(cli.stdout, '');
  assert.equal(cli.stderr, 'kafu: error: --requests cpu: "fast" is not a Kubernetes quantity (like 250m, 512Mi, 2)\n');
  const claim = spawnSync(process.execPath, [KAFU_BIN, 'kustomize', 'build', file, '--claim', '/=1Gi', '--claim', '/data'], { encoding: 'utf8' });
  assert.equal(claim.status, 1);
  assert.equal(claim.stderr, 'kafu: error: --claim /data: expected GUEST=SIZE, like /data=1Gi\n');
});

test('cluster.tls: each pod mounts the CA and only its own certificate and key from a Secret; probes on a plaintext health port', async () => {
  const tls = '  tls:\n    ca: ./certs/ca.crt\n    cert: ./certs/${node}.crt\n    key: ./certs/${node}.key\n';
  const { objects, notes } = await build(EXAMPLE.replace('  tls: plaintext\n', tls), { instanceId: 'demo' });
  validateAll(objects);
  const spec = named(objects, 'Job', 'demo-edge').spec.template.spec;
  assert.deepEqual(spec.volumes.find((v: Any) => v.name === 'tls').secret.items.map((i: Any) => i.key), ['ca.crt', 'edge.crt', 'edge.key']);
  // The node's port wants a client certificate: the probes use the plaintext health port, one no node uses.
  const c = spec.containers[0];
  const health = Number(c.args[c.args.indexOf('--health-port') + 1]);
  assert.ok(![50051, 7000].includes(health) && health > 0, c.args.join(' '));
  assert.deepEqual(c.readinessProbe.grpc, { port: health });
  assert.deepEqual(c.livenessProbe.grpc, { port: health });
  assert.deepEqual(c.ports.map((p: Any) => p.containerPort), [7000, health]);
  const podConfig = parse(named(objects, 'ConfigMap', 'demo-kafu-config').data['kafu-config.yaml']);
  assert.deepEqual(podConfig.cluster.tls, { ca: './tls/ca.crt', cert: './tls/${node}.crt', key: './tls/${node}.key' });
  assert.ok(notes.some((n) => n.includes('kubectl create secret generic demo-kafu-tls --from-file=ca.crt=')));
});

test("a browser node's page and the program's listeners are served through their node's Service; the health port avoids them", async () => {
  const yaml = EXAMPLE.replace('  edge: { address: 10.0.0.7, port: 7000, placement: edge-site }\n',
    '  edge: { address: 10.0.0.7, port: 7000, placement: edge-site }\n  phone: { address: 10.0.0.8, port: 7001, browser: { port: 50052 } }\n')
    .replace('  output: first_node\n', '  output: first_node\n  listen:\n    - { address: 0.0.0.0, port: 8080 }\n    - { node: edge, address: 127.0.0.1, port: 9090 }\n')
    .replace('  tls: plaintext\n', '  tls:\n    ca: ./certs/ca.crt\n    cert: ./certs/${node}.crt\n    key: ./certs/${node}.key\n');
  const { objects, notes } = await build(yaml);
  validateAll(objects);
  const ports = (id: string) => {
    const svc = named(objects, 'Service', id).spec.ports.map((p: Any) => `${p.name}:${p.port}->${p.targetPort}`);
    const c = named(objects, 'Job', id).spec.template.spec.containers[0];
    return { svc, container: c.ports.map((p: Any) => `${p.name}:${p.containerPort}`), health: Number(c.args[c.args.indexOf('--health-port') + 1]) };
  };
  const cloud = ports('cloud'), edge = ports('edge'), phone = ports('phone');
  // The first node is the home of a listener that names no node.
  assert.deepEqual(cloud.svc, ['grpc:50051->grpc', 'listen-0:8080->listen-0']);
  assert.deepEqual(edge.svc, ['grpc:7000->grpc', 'listen-1:9090->listen-1']);
  assert.deepEqual(phone.svc, ['grpc:7001->grpc', 'browser:50052->browser']);
  assert.deepEqual(phone.container, ['grpc:7001', 'browser:50052', `health:${phone.health}`]);
  assert.deepEqual(cloud.container, ['grpc:50051', 'listen-0:8080', `health:${cloud.health}`]);
  // The plaintext health ports are distinct and none of them is a port some pod serves (50052 is the browser page).
  const healths = [cloud.health, edge.health, phone.health];
  assert.equal(new Set(healths).size, 3);
  for (const h of healths) assert.ok(![50051, 7000, 7001, 50052, 8080, 9090].includes(h), String(h));
  // A listener on loopback cannot serve the Service's clients from inside a pod: said, with the fix.
  assert.ok(notes.some((n) => n.includes('app.listen[1] (127.0.0.1:9090 on node edge) is a loopback address') && n.includes('0.0.0.0')), notes.join('\n'));
  assert.ok(!notes.some((n) => n.includes('app.listen[0]')));
});

test('kubectl kustomize accepts the output (when kubectl is installed)', async (t) => {
  const probe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return t.skip('kubectl is not installed');
  const { yaml, objects } = await build(EXAMPLE, { instanceId: 'demo' });
  const dir = join(work, 'kustomization');
  mkdirSync(dir);
  writeFileSync(join(dir, 'kafu.yaml'), yaml);
  writeFileSync(join(dir, 'kustomization.yaml'), 'resources:\n  - kafu.yaml\nnamespace: kafu-test\n');
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = parseAllDocuments(r.stdout).map((d) => d.toJS() as Any);
  const key = (o: Any) => `${o.kind}/${o.metadata.name}`;
  assert.deepEqual(out.map(key).sort(), objects.map(key).sort());
  for (const o of out) {
    assert.equal(o.metadata.namespace, 'kafu-test');
    delete o.metadata.namespace;
    assert.deepEqual(o, objects.find((x) => key(x) === key(o)));
  }
});
