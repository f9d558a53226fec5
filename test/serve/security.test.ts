// Security of `kafu serve` (mutual TLS, who may call what): real node processes on loopback, attacked by real gRPC
// clients — strangers without a certificate, a certificate of another CA, and a member node's certificate used
// for calls that node may not make. The program must finish untouched with the output of a plain run.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { writeClusterCerts } from '../../src/certs/files.js';
import { KafuNodeClient, addKafuNodeService } from '../../src/serve/protocol.js';
import { loadNodeTls, serverCredentials, type NodeTls } from '../../src/serve/tls.js';
import { buildWasm } from '../support/build.js';
import { clusterConfig, freePorts, runCluster, spawnKafu } from '../support/cluster.js';
import { freshDir } from '../support/forced.js';

const ports = async (configPath: string) => [...(await readFile(configPath, 'utf8')).matchAll(/port: (\d+)/g)].map((m) => Number(m[1]));
const rpc = { deadlineMs: 5000 };
/** The gRPC status code a call failed with (or 'ok'). */
const outcome = (p: Promise<unknown>) => p.then(() => 'ok' as const, (e: { code?: number }) => e.code);
const tlsOf = (dir: string, id: string, configPath: string) =>
  loadNodeTls(configPath, { ca: `${dir}/certs/ca.crt`, cert: `${dir}/certs/${id}.crt`, key: `${dir}/certs/${id}.key` }, id);

describe('kafu serve: mutual TLS and per-call permissions', () => {
  let linger = '';
  let work = '';
  before(async () => {
    linger = await buildWasm({ sources: ['test/programs/serve/linger.c'], args: ['-O1'] });
    work = await freshDir('kafu-security-');
  });

  test('strangers, another CA and a member speaking as another node or beyond its role are refused; the program finishes untouched', async () => {
    const dir = join(work, 'attack');
    await mkdir(dir);
    const foreign = join(work, 'foreign');
    const results: Record<string, unknown> = {};
    const run = await runCluster(linger, {
      nodes: ['cloud', 'edge', 'fog'],
      args: ['2'],
      output: 'first_node',
      dir,
      whileRunning: async (c) => {
        await c.printed('cloud', 'edge: waiting');
        const configPath = join(dir, 'kafu-config.yaml');
        const [cloudPort, edgePort] = await ports(configPath);
        const cloudAt = `127.0.0.1:${cloudPort}`;
        // No certificate at all: the handshake fails, no handler runs.
        const stranger = new KafuNodeClient(cloudAt, 'cloud', undefined);
        results.strangerShutdown = await outcome(stranger.shutdown({ from: 'edge', reason: 'pwned', exitCode: 0, programFinished: true }, rpc));
        results.strangerHello = await outcome(stranger.hello({ from: 'edge' }, rpc));
        results.strangerOutput = await outcome(stranger.output({ from: 'edge', stream: 's', seq: 0, chunks: [{ fd: 1, data: Buffer.from('injected\n') }] }, rpc));
        stranger.close();
        // A certificate named "edge", but from another CA.
        await writeClusterCerts('other', [{ id: 'edge', address: '127.0.0.1', port: 1 }], join(foreign, 'certs'), { days: 30 });
        const impostor = new KafuNodeClient(cloudAt, 'cloud', tlsOf(foreign, 'edge', configPath));
        results.foreignCa = await outcome(impostor.shutdown({ from: 'edge', reason: 'pwned', exitCode: 0, programFinished: true }, rpc));
        impostor.close();
        // fog is a member, but the program is on edge: it may not say the program finished, speak for edge (here: read
        // the first node's stdin as edge), or beat. (Input and Output under its own name it may use: a member is
        // trusted with the program's input and output — README "Security".)
        const fogTls = tlsOf(dir, 'fog', configPath)!;
        const fog = new KafuNodeClient(cloudAt, 'cloud', fogTls);
        results.fogFinished = await outcome(fog.shutdown({ from: 'fog', reason: 'pwned', exitCode: 0, programFinished: true }, rpc));
        results.fogAsEdge = await outcome(fog.shutdown({ from: 'edge', reason: 'pwned', exitCode: 0, programFinished: true }, rpc));
        results.fogInput = await outcome(fog.input({ from: 'edge', maxBytes: 10, stream: 'x', seq: 1 }, rpc));
        fog.close();
        const fogToEdge = new KafuNodeClient(`127.0.0.1:${edgePort}`, 'edge', fogTls);
        results.fogHeartbeat = await outcome(fogToEdge.heartbeat({ from: 'fog', executionStarted: true }, rpc));
        results.fogHello = await outcome(fogToEdge.hello({ from: 'fog' }, rpc));
        fogToEdge.close();
      },
    });
    assert.deepEqual(results, {
      strangerShutdown: grpc.status.UNAVAILABLE,
      strangerHello: grpc.status.UNAVAILABLE,
      strangerOutput: grpc.status.UNAVAILABLE,
      foreignCa: grpc.status.UNAVAILABLE,
      fogFinished: grpc.status.PERMISSION_DENIED,
      fogAsEdge: grpc.status.PERMISSION_DENIED,
      fogInput: grpc.status.PERMISSION_DENIED,
      fogHeartbeat: grpc.status.PERMISSION_DENIED,
      fogHello: 'ok', // a member may ask
    });
    for (const [id, n] of Object.entries(run.nodes)) assert.equal(n.exitCode, 0, `${id}: ${n.stderr}`);
    assert.equal(run.nodes.cloud!.stdout, 'cloud: start\nedge: waiting\ncloud: edge returned 2\n');
    assert.ok(!run.logs.some((l) => l.includes('pwned')), run.logs.join('\n'));
  });

  test('a node whose certificate names another node is refused, at start and on the wire', async () => {
    const dir = join(work, 'impersonate');
    await mkdir(dir);
    const configPath = await clusterConfig(dir, linger, { nodes: ['cloud', 'edge'] });
    await writeClusterCerts('cluster-test', [{ id: 'fog', address: '127.0.0.1', port: 1 }], join(dir, 'certs'), { days: 30 });
    // At start: edge given fog's certificate.
    const wrong = await spawnKafu(['serve', '--node-id', 'edge', '--tls-ca', 'certs/ca.crt', '--tls-cert', 'certs/fog.crt', '--tls-key', 'certs/fog.key', configPath], dir).done;
    assert.equal(wrong.exitCode, 1);
    assert.match(wrong.stderr, /--tls-cert .*fog\.crt: the certificate is for node "fog", not edge/);
    // On the wire: a server with fog's (valid, same CA) certificate where edge should be gets nothing.
    const [, edgePort] = await ports(configPath);
    const server = new grpc.Server();
    let asked = false;
    const no = async () => {
      asked = true;
      throw new Error('not reached');
    };
    const noStart = () => {
      asked = true;
      throw new Error('not reached');
    };
    addKafuNodeService(server, { hello: no, migrateStart: noStart, migrate: no, output: no, input: no, heartbeat: no, shutdown: no, socket: no });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${edgePort}`, serverCredentials(tlsOf(dir, 'fog', configPath)), (e) => (e ? reject(e) : resolve())),
    );
    try {
      const cloud = await spawnKafu(['serve', '--node-id', 'cloud', '--peer-timeout', '2', configPath], dir).done;
      assert.equal(cloud.exitCode, 1);
      assert.equal(cloud.stdout, '', 'the program never started');
      assert.match(cloud.stderr, /node edge .* gave up after 2 s/);
      assert.equal(asked, false, 'no call reached the impostor');
    } finally {
      server.forceShutdown();
    }
  });

  test('plaintext only when the config says so, with a warning; strangers still must name a node', async () => {
    const dir = join(work, 'plaintext');
    await mkdir(dir);
    const results: Record<string, unknown> = {};
    const run = await runCluster(linger, {
      nodes: ['cloud', 'edge'],
      args: ['1'],
      tls: 'plaintext',
      dir,
      whileRunning: async (c) => {
        await c.printed('edge', 'edge: waiting');
        const [cloudPort] = await ports(join(dir, 'kafu-config.yaml'));
        const stranger = new KafuNodeClient(`127.0.0.1:${cloudPort}`, 'cloud', undefined);
        results.intruder = await outcome(stranger.shutdown({ from: 'intruder', reason: 'x', exitCode: 0, programFinished: false }, rpc));
        stranger.close();
      },
    });
    assert.deepEqual(results, { intruder: grpc.status.PERMISSION_DENIED });
    assert.equal(run.nodes.cloud!.exitCode, 0, run.nodes.cloud!.stderr);
    assert.match(run.nodes.cloud!.stderr, /WARN .*cluster\.tls: plaintext — node traffic is neither encrypted nor authenticated/);

    // Without cluster.tls a node does not start, and says how to fix it.
    const configPath = await clusterConfig(dir, linger, { nodes: ['cloud', 'edge'], tls: 'plaintext' });
    await writeFile(configPath, (await readFile(configPath, 'utf8')).replace('  tls: plaintext\n', ''));
    const missing = await spawnKafu(['serve', '--node-id', 'edge', configPath], dir).done;
    assert.equal(missing.exitCode, 1);
    assert.match(missing.stderr, /cluster\.tls is not set.*`kafu certs .*kafu-config\.yaml`.*tls: plaintext/s);
    assert.doesNotMatch(missing.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace');
  });

  test('health: on the node port over mTLS, and alone in plaintext on --health-port for probes', async () => {
    const dir = join(work, 'health');
    await mkdir(dir);
    const configPath = await clusterConfig(dir, linger, { nodes: ['cloud', 'edge'] });
    const [, edgePort] = await ports(configPath);
    const [healthPort] = await freePorts(1);
    const edge = spawnKafu(['serve', '--node-id', 'edge', '--health-port', String(healthPort), configPath], dir);
    try {
      await edge.printed('Node edge listening');
      const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
      const check = (client: grpc.Client, service: string) =>
        new Promise<unknown>((resolve, reject) =>
          (client as unknown as Record<string, (r: object, o: object, cb: (e: Error | null, r: unknown) => void) => void>).check!(
            { service },
            { deadline: Date.now() + 5000 },
            (e, r) => (e ? reject(e) : resolve(r)),
          ),
        );
      const probe = new Health(`127.0.0.1:${healthPort}`, grpc.credentials.createInsecure());
      assert.deepEqual(await check(probe, ''), { status: 'SERVING' });
      assert.deepEqual(await check(probe, 'kafu.v1.KafuNode'), { status: 'SERVING' });
      probe.close();
      const cloudTls = tlsOf(dir, 'cloud', configPath)!;
      const member = new Health(`127.0.0.1:${edgePort}`, grpc.credentials.createSsl(cloudTls.ca, cloudTls.key, cloudTls.cert, { checkServerIdentity: () => undefined }), {
        'grpc.ssl_target_name_override': 'edge',
      });
      assert.deepEqual(await check(member, ''), { status: 'SERVING' });
      member.close();
      // The health port serves nothing else.
      const other = new KafuNodeClient(`127.0.0.1:${healthPort}`, 'edge', undefined);
      assert.equal(await outcome(other.hello({ from: 'cloud' }, rpc)), grpc.status.UNIMPLEMENTED);
      other.close();
    } finally {
      edge.proc.kill('SIGKILL');
    }
  });

  test('kafu certs: a CA and node certificates, keys owner-only; a second run rotates node certificates under the same CA', async () => {
    const dir = join(work, 'certs');
    await mkdir(dir);
    const configPath = await clusterConfig(dir, linger, { nodes: ['cloud', 'edge'], tls: 'plaintext' });
    const first = await spawnKafu(['certs', configPath, '--out', join(dir, 'pki')], dir).done;
    assert.equal(first.exitCode, 0, first.stderr);
    assert.match(first.stdout, /cluster:\n  tls:\n    ca: \.\/pki\/ca\.crt\n    cert: \.\/pki\/\$\{node\}\.crt\n    key: \.\/pki\/\$\{node\}\.key\n/);
    assert.equal((await stat(join(dir, 'pki', 'edge.key'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'pki', 'ca.key'))).mode & 0o777, 0o600);
    const ca1 = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
    const edge1 = await readFile(join(dir, 'pki', 'edge.crt'), 'utf8');
    const rotate = await spawnKafu(['certs', configPath, '--out', join(dir, 'pki'), '--node', 'edge'], dir).done;
    assert.equal(rotate.exitCode, 0, rotate.stderr);
    assert.match(rotate.stderr, /reused the CA/);
    assert.equal(await readFile(join(dir, 'pki', 'ca.crt'), 'utf8'), ca1);
    assert.notEqual(await readFile(join(dir, 'pki', 'edge.crt'), 'utf8'), edge1);
    const tls: NodeTls | undefined = loadNodeTls(configPath, { ca: './pki/ca.crt', cert: './pki/${node}.crt', key: './pki/${node}.key' }, 'edge');
    assert.ok(tls, 'the rotated certificate is valid under the old CA');
    const fresh = await spawnKafu(['certs', configPath, '--out', join(dir, 'pki'), '--new-ca'], dir).done;
    assert.equal(fresh.exitCode, 0, fresh.stderr);
    assert.notEqual(await readFile(join(dir, 'pki', 'ca.crt'), 'utf8'), ca1);
    const bad = await spawnKafu(['certs', configPath, '--node', 'nope'], dir).done;
    assert.equal(bad.exitCode, 1);
    assert.match(bad.stderr, /--node nope: no such node in the config \(cloud, edge\)/);
  });
});
