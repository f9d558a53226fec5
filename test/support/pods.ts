// Running the output of `kafu kustomize build` without a cluster: each Job's pod becomes a local process started
// from what the manifests say — the container's command (the image's entrypoint `kafu` is a kafu install on this
// machine), args, env and working directory — with the pod's volumes as folders under a root folder of its own
// (ConfigMaps written out as files, emptyDirs and claims as folders, subPath mounts as copies). Service names in
// the config the pod reads resolve to 127.0.0.1, after checking what a cluster's DNS and kube-proxy would need:
// the Service exists, its port is the node's, and it selects that node's pod and reaches the port it listens on.
// So a test proves that the manifests run, not only that they parse.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseAllDocuments, parseDocument, isMap, type YAMLMap } from 'yaml';
import { KAFU_BIN } from './build.js';
import { spawnKafu, type KafuLaunch, type NodeRun } from './cluster.js';

// Parsed manifests: the harness checks each field it uses.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export interface PodRunOptions {
  /** Each pod's files go to `<dir>/<job>/`. */
  dir: string;
  /** What the image's `kafu` entrypoint is here (default: this checkout's bin/kafu.js). */
  launch?: KafuLaunch;
  /** The cluster's Secrets (the manifests only refer to them): name → key → content. */
  secrets?: Record<string, Record<string, string>>;
  /** Kill every process after this long (ms). */
  timeoutMs?: number;
}

export interface PodRun extends NodeRun {
  /** The pod's root folder: a mountPath P is at root + P. */
  root: string;
}

/** Every pod exited 0; else the failure shows every pod's log (the one that failed first is often not the first listed). */
export function assertPodsSucceeded(pods: Record<string, PodRun>): void {
  const logs = () => Object.entries(pods).map(([name, p]) => `${name} (exit ${p.exitCode}):\n${p.stderr}`).join('\n');
  for (const p of Object.values(pods)) if (p.exitCode !== 0) assert.fail(logs());
}

export async function runManifests(manifests: string, o: PodRunOptions): Promise<Record<string, PodRun>> {
  const objects: Any[] = parseAllDocuments(manifests).map((d) => {
    assert.equal(d.errors.length, 0, `manifests: ${d.errors[0]?.message}`);
    return d.toJS();
  });
  const byKind = (kind: string) => new Map<string, Any>(objects.filter((x) => x.kind === kind).map((x) => [x.metadata.name, x]));
  const configMaps = byKind('ConfigMap');
  const services = byKind('Service');
  const claims = byKind('PersistentVolumeClaim');
  const jobs = [...byKind('Job').values()];
  assert.ok(jobs.length > 0, 'manifests: no Job');

  const claimed = new Map<string, string>();
  const pods = await Promise.all(jobs.map((job) => preparePod(job, o, configMaps, claims, claimed)));
  // Resolve Service names in each pod's config, once every pod's labels and ports are known.
  for (const pod of pods) await resolveServices(pod, pods, services);
  const started = pods.map((p) => ({ pod: p, run: spawnKafu(p.args, p.cwd, undefined, { command: [...p.entrypoint], env: p.env }) }));
  const killer = setTimeout(() => started.forEach((s) => s.run.proc.kill('SIGKILL')), o.timeoutMs ?? 60_000);
  try {
    const out: Record<string, PodRun> = {};
    for (const s of started) out[s.pod.name] = { ...(await s.run.done), root: s.pod.root };
    return out;
  } finally {
    clearTimeout(killer);
  }
}

interface LocalPod {
  name: string;
  root: string;
  labels: Record<string, string>;
  /** containerPort by port name and number. */
  ports: Map<string | number, number>;
  entrypoint: string[];
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** `claimed`: claim name → the pod that mounts it (one pod per ReadWriteOnce claim). */
async function preparePod(
  job: Any,
  o: PodRunOptions,
  configMaps: Map<string, Any>,
  claims: Map<string, Any>,
  claimed: Map<string, string>,
): Promise<LocalPod> {
  const name: string = job.metadata.name;
  const spec = job.spec.template.spec;
  assert.equal(spec.containers.length, 1, `Job ${name}: one container expected`);
  const c = spec.containers[0];
  const root = join(o.dir, name);
  const at = (podPath: string) => join(root, podPath);

  const volumes = new Map<string, Any>(spec.volumes.map((v: Any) => [v.name, v]));
  /** Writes volume `v`'s content into `dest` (a folder). */
  const materialize = async (v: Any, dest: string): Promise<void> => {
    if (v.emptyDir) return void (await mkdir(dest, { recursive: true }));
    if (v.persistentVolumeClaim) {
      // A ReadWriteOnce claim's storage is the one pod's folder (a symlink would not be a mount: a program
      // sees the difference).
      const claim = v.persistentVolumeClaim.claimName;
      assert.ok(claims.has(claim), `Job ${name}: volume ${v.name} needs claim ${claim}, which the manifests lack`);
      assert.ok(!claimed.has(claim), `Job ${name}: claim ${claim} is already mounted by ${claimed.get(claim)}`);
      claimed.set(claim, name);
      return void (await mkdir(dest, { recursive: true }));
    }
    const source = v.configMap
      ? configMaps.get(v.configMap.name)
      : v.secret
        ? { data: o.secrets?.[v.secret.secretName] }
        : assert.fail(`Job ${name}: volume ${v.name}: kind not supported by this harness`);
    assert.ok(source?.data || source?.binaryData, `Job ${name}: volume ${v.name}: its ConfigMap or Secret does not exist`);
    const files = new Map<string, Buffer>([
      ...Object.entries<string>(source.data ?? {}).map(([k, s]) => [k, Buffer.from(s)] as const),
      ...Object.entries<string>(source.binaryData ?? {}).map(([k, s]) => [k, Buffer.from(s, 'base64')] as const),
    ]);
    const items: { key: string; path: string }[] = (v.configMap ?? v.secret).items ?? [...files.keys()].map((key) => ({ key, path: key }));
    await mkdir(dest, { recursive: true });
    for (const { key, path } of items) {
      assert.ok(files.has(key), `Job ${name}: volume ${v.name} wants key ${key}, which its source lacks`);
      await writeFile(join(dest, path), files.get(key)!);
    }
  };
  // Parents before what is mounted inside them (the work folder before the config file in it).
  const mounts = [...c.volumeMounts].sort((a: Any, b: Any) => a.mountPath.length - b.mountPath.length);
  for (const m of mounts) {
    const v = volumes.get(m.name);
    assert.ok(v, `Job ${name}: volumeMount ${m.name} has no volume`);
    if (m.subPath) {
      const staging = join(o.dir, '.volumes', name, m.name);
      await materialize(v, staging);
      await mkdir(dirname(at(m.mountPath)), { recursive: true });
      await copyFile(join(staging, m.subPath), at(m.mountPath));
    } else {
      await materialize(v, at(m.mountPath));
    }
  }

  const [command, ...commandArgs] = c.command ?? [];
  assert.equal(command, 'kafu', `Job ${name}: the container runs ${command}, not the image's kafu`);
  const env: NodeJS.ProcessEnv = { ...(o.launch?.env ?? process.env) };
  for (const e of c.env ?? []) {
    assert.equal(typeof e.value, 'string', `Job ${name}: env ${e.name}: only plain values are supported`);
    env[e.name] = e.value;
  }
  const cwd = at(c.workingDir ?? '/');
  await mkdir(cwd, { recursive: true });
  return {
    name,
    root,
    labels: job.spec.template.metadata.labels,
    ports: new Map((c.ports ?? []).flatMap((p: Any) => [[p.containerPort, p.containerPort], ...(p.name ? [[p.name, p.containerPort]] : [])])),
    entrypoint: o.launch?.command ?? [process.execPath, KAFU_BIN],
    // An absolute path in the args is a path in the pod.
    args: [...commandArgs, ...(c.args ?? [])].map((a: string) => (isAbsolute(a) ? at(a) : a)),
    cwd,
    env,
  };
}

/** The config the pod reads (`kafu serve … CONFIG`): each node address that names a Service becomes 127.0.0.1. */
async function resolveServices(pod: LocalPod, pods: LocalPod[], services: Map<string, Any>): Promise<void> {
  const file = resolve(pod.cwd, pod.args[pod.args.length - 1]!);
  const doc = parseDocument(await readFile(file, 'utf8'));
  const nodes = doc.get('nodes');
  assert.ok(isMap(nodes), `${pod.name}: config without nodes`);
  for (const pair of nodes.items) {
    const node = pair.value as YAMLMap;
    const address = String(node.get('address'));
    const port = Number(node.get('port'));
    const svc = services.get(address.split('.')[0]!);
    assert.ok(svc, `${pod.name}: node ${String(pair.key)} is at ${address}, which no Service of the manifests names`);
    const sp = svc.spec.ports.find((p: Any) => p.port === port);
    assert.ok(sp, `Service ${address} has no port ${port} (the config's port of node ${String(pair.key)})`);
    const selected = pods.filter((p) => Object.entries(svc.spec.selector).every(([k, v]) => p.labels[k] === v));
    assert.equal(selected.length, 1, `Service ${address} selects ${selected.length} pods, not one`);
    const target = selected[0]!.ports.get(sp.targetPort ?? port);
    // The node listens on the config's port: the Service must deliver there.
    assert.equal(target, port, `Service ${address}: port ${port} → targetPort ${sp.targetPort} does not reach the pod listening on ${port}`);
    node.set('address', '127.0.0.1');
  }
  await writeFile(file, doc.toString());
}
