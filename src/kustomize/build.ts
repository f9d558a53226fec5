// `kafu kustomize build CONFIG`: the Kubernetes objects that run a Kafu program, printed as one YAML stream.
//
//   - a ConfigMap with the config the pods see (pod-config.ts) and, when the config gives app.path, a ConfigMap
//     with the module (app.url is recommended: the node fetches the module itself);
//   - per node a Service (its address in the pods' config, on the node's own port) and a Job running
//     `kafu serve --node-id <id>`: a Kafu program is one run that ends with an exit code on every node, so a
//     node is a Job that completes (exit 0) or fails (any other code), never a pod restarted into a second run;
//   - per node and mount asked for with `claims`, a PersistentVolumeClaim (otherwise the mount is an emptyDir).
//
// The same input gives byte-identical output: objects and keys in a fixed order, nothing taken from the clock
// or the environment.
import { readFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { stringify } from 'yaml';
import { UserError } from '../core/errors.js';
import { requireMetadata } from '../core/metadata.js';
import { checkPlacement } from '../core/program.js';
import { loadConfigFile } from '../node/config-file.js';
import { readModule } from '../node/module-source.js';
import { kafuVersion } from '../node/package-info.js';
import { labelValue, objectName, quantity } from './k8s-values.js';
import { podConfigText } from './pod-config.js';
import { meta, nodeObjects, servedPorts, type K8sObject } from './node-objects.js';
import { CONFIG_FILE, TLS_CA_KEY, tlsCertKey, tlsKeyKey } from './pod-layout.js';
import { tlsFiles } from './tls.js';
// Types only (erased at run time, so the runtime does not need the package): the compiler checks every field
// name and type of the objects against the Kubernetes API; the tests validate the values with its schemas.
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';

/** A ConfigMap holds at most 1 MiB of data (the API server's limit). */
export const CONFIGMAP_LIMIT = 1 << 20;
/** `kubectl apply` (client-side) copies an object into an annotation of at most 256 KiB. */
const APPLY_ANNOTATION_LIMIT = 256 << 10;

export interface KustomizeOptions {
  /** Container image with the `kafu` entrypoint (the repository's Dockerfile). */
  image: string;
  /** Prefixes every name and labels every object, so that two deployments share a namespace. */
  instanceId?: string;
  /** Guest path of a mount → storage size: that mount is a PersistentVolumeClaim per node, not an emptyDir. */
  claims?: Record<string, string>;
  /** Container resources, e.g. { cpu: '250m', memory: '256Mi' }. */
  requests?: Record<string, string>;
  limits?: Record<string, string>;
  /** `kafu serve --peer-timeout` in the pods: pods can take a while to be scheduled and pull the image. */
  peerTimeoutS?: number;
}

/** The image the repository's Dockerfile builds (README: "Deploy on Kubernetes"). */
export const DEFAULT_IMAGE = `kafu:${kafuVersion}`;
export const DEFAULT_REQUESTS = { cpu: '100m', memory: '128Mi' };
export const DEFAULT_PEER_TIMEOUT_S = 300;

export interface KustomizeResult {
  /** The manifests: YAML documents separated by `---`. */
  yaml: string;
  /** What the user has to do besides applying them (label nodes, create the TLS Secret …), for stderr. */
  notes: string[];
}


export async function kustomizeBuild(configFile: string, o: KustomizeOptions): Promise<KustomizeResult> {
  const loaded = loadConfigFile(configFile);
  const { config } = loaded;
  const text = readFileSync(configFile, 'utf8');
  const image = o.image.trim();
  if (image === '' || /\s/.test(image)) throw new UserError(`--image "${o.image}": expected an image reference like registry/kafu:1.0`);
  const prefix = o.instanceId === undefined ? '' : `${objectName(o.instanceId, '--instance-id')}-`;
  const name = (base: string, what: string) => objectName(`${prefix}${base}`, what);
  const configMapName = name('kafu-config', 'config map');
  const moduleMapName = name('kafu-module', 'module config map');
  const tlsSecretName = name('kafu-tls', 'TLS secret');
  const notes: string[] = [];

  const common: Record<string, string> = {
    component: 'kafu-server',
    'kafu-service-name': labelValue(config.name, `${configFile}: name`),
    ...(o.instanceId === undefined ? {} : { 'kafu-instance': o.instanceId }),
  };
  const services = Object.fromEntries(config.nodes.map((n) => [n.id, name(n.id, `node ${n.id}`)]));

  // The module: fetched by each node from app.url, or delivered in a ConfigMap when it fits.
  let moduleFile: string | undefined;
  let moduleMap: IConfigMap | undefined;
  if (loaded.modulePath !== undefined) {
    const { bytes } = await readModule(loaded);
    if (bytes.length > CONFIGMAP_LIMIT) {
      throw new UserError(
        `${configFile}: app.path: the module is ${mib(bytes.length)}, too large to travel in the manifests (a ConfigMap holds ` +
          `at most ${mib(CONFIGMAP_LIMIT)}): publish it on an HTTP(S) server the pods reach and give app.url instead ` +
          '(recommended for Kubernetes)',
      );
    }
    // A module that cannot run on these nodes is better refused now than in every pod.
    checkPlacement(requireMetadata(bytes, loaded.modulePath), config.nodes.map((n) => n.id), loaded.modulePath);
    moduleFile = /^[-._a-zA-Z0-9]+$/.test(basename(loaded.modulePath)) ? basename(loaded.modulePath) : 'main.wasm';
    const base64 = Buffer.from(bytes).toString('base64');
    moduleMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(moduleMapName, common), binaryData: { [moduleFile]: base64 } };
    if (base64.length > APPLY_ANNOTATION_LIMIT) {
      notes.push(
        `the module (${mib(bytes.length)}) is embedded in ConfigMap ${moduleMapName}: too large for client-side \`kubectl apply\`; ` +
          'use `kubectl apply --server-side` (or `kubectl create`), or give app.url',
      );
    }
  }

  if (config.app.url !== undefined && isLoopback(new URL(config.app.url).hostname)) {
    notes.push(`app.url ${config.app.url} is this machine's loopback address: each pod would ask itself for the module`);
  }
  const tls = tlsFiles(config, configFile);
  const podConfig = podConfigText(text, loaded, { services, moduleFile, tls: tls !== undefined });
  const objects: K8sObject[] = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(configMapName, common), data: { [CONFIG_FILE]: podConfig } },
    ...(moduleMap ? [moduleMap] : []),
  ];

  const claims = o.claims ?? {};
  for (const guest of Object.keys(claims)) {
    if (!config.app.mounts.some((m) => m.guest === guest)) {
      throw new UserError(
        `--claim ${guest}: the config has no mount at ${guest}; its mounts: ${config.app.mounts.map((m) => m.guest).join(', ') || 'none'}`,
      );
    }
    quantity(claims[guest]!, `--claim ${guest}`);
  }
  const resources = { requests: o.requests ?? DEFAULT_REQUESTS, ...(o.limits && Object.keys(o.limits).length ? { limits: o.limits } : {}) };

  const listeners = (id: string) => config.app.listen.flatMap((l, index) => (l.node === id ? [{ index, port: l.port }] : []));
  config.app.listen.forEach((l, i) => {
    if (isLoopback(l.address)) {
      notes.push(
        `app.listen[${i}] (${l.address}:${l.port} on node ${l.node}) is a loopback address: in its pod only the pod itself reaches it, ` +
          `not the clients of Service ${services[l.node]}; give address 0.0.0.0 to serve them`,
      );
    }
  });
  const healthPorts = tls
    ? plaintextHealthPorts(config.nodes.map((n) => n.port), config.nodes.flatMap((n) => servedPorts(n, { listeners: listeners(n.id) }).map((p) => p.port)))
    : undefined;
  config.nodes.forEach((node, i) => {
    objects.push(
      ...nodeObjects(node, {
        image,
        common,
        service: services[node.id]!,
        name,
        configMap: configMapName,
        moduleMap: moduleMap ? moduleMapName : undefined,
        tlsSecret: tls ? tlsSecretName : undefined,
        healthPort: healthPorts?.[i],
        listeners: listeners(node.id),
        mounts: config.app.mounts,
        claims,
        resources,
        peerTimeoutS: o.peerTimeoutS ?? DEFAULT_PEER_TIMEOUT_S,
      }),
    );
  });

  const placements = [...new Set(config.nodes.map((n) => n.placement ?? n.id))];
  notes.push(`the pods run on cluster nodes labelled kafu-node=${placements.join(', kafu-node=')} (kubectl label node NODE kafu-node=…)`);
  if (tls) {
    // The config's paths are relative to its folder; the command runs here.
    const here = (f: string) => relative(process.cwd(), resolve(dirname(configFile), f)) || '.';
    const files = [tls.ca, ...config.nodes.flatMap((n) => [tls.cert, tls.key].map((f) => f.replaceAll('${node}', n.id)))].map(here);
    const keys = [TLS_CA_KEY, ...config.nodes.flatMap((n) => [tlsCertKey(n.id), tlsKeyKey(n.id)])];
    notes.push(
      `the pods read their certificates from Secret ${tlsSecretName}; create it from the config's files, e.g. ` +
        `kubectl create secret generic ${tlsSecretName} ${keys.map((k, i) => `--from-file=${k}=${files[i]}`).join(' ')}`,
    );
  }
  return { yaml: objects.map((obj) => stringify(obj, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n'), notes };
}

const isLoopback = (host: string) => host === 'localhost' || /^127\./.test(host) || host === '[::1]' || host === '::1';

/**
 * With TLS the node's port takes only callers with a certificate of the cluster, which a kubelet's `grpc` probe
 * cannot present: each node then also serves the health service alone, in plaintext (`kafu serve --health-port`),
 * on a port nothing of the config uses (`nodePorts`, one per node, and `taken`: every port a pod serves; pods have
 * their own ports, but the local test harness shares one host).
 */
export function plaintextHealthPorts(nodePorts: number[], taken: number[]): number[] {
  const used = new Set([...nodePorts, ...taken]);
  const free: number[] = [];
  for (let p = Math.max(...nodePorts) + 1; p <= 65535 && free.length < nodePorts.length; p++) if (!used.has(p)) free.push(p);
  for (let p = Math.min(...nodePorts) - 1; p >= 1024 && free.length < nodePorts.length; p--) if (!used.has(p)) free.push(p);
  if (free.length < nodePorts.length) throw new UserError('kustomize: no free port for the nodes\' plaintext health service');
  return free;
}

const mib = (n: number) => `${(n / (1 << 20)).toFixed(2)} MiB`;
