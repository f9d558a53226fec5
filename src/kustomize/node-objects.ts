// The objects of one node: its Service (the address the other nodes dial, on the node's own port), its Job (one pod
// running `kafu serve --node-id <id>` on a cluster node of its placement) and the claims of its mounts.
import type { NodeConfig, MountConfig } from '../core/config.js';
import { labelValue } from './k8s-values.js';
import { ENTRYPOINT, IMAGE_UID, CONFIG_FILE, MODULE_DIR, POD_DIR, TLS_CA_KEY, TLS_DIR, mountDir, podPath, tlsCertKey, tlsKeyKey } from './pod-layout.js';
// Types only (erased at run time): the compiler checks every field name and type against the Kubernetes API.
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';

export type K8sObject = IConfigMap | IService | IJob | IPersistentVolumeClaim;

export interface NodeObjectsContext {
  image: string;
  /** Labels of every object of the deployment. */
  common: Record<string, string>;
  /** This node's Service (also its Job's) name. */
  service: string;
  /** An object name with the deployment's prefix, checked. */
  name: (base: string, what: string) => string;
  configMap: string;
  /** The module's ConfigMap, when the module is embedded. */
  moduleMap?: string;
  /** The Secret with the TLS files, when the config has cluster.tls. */
  tlsSecret?: string;
  /** Where the node serves health in plaintext for the probes (with TLS); otherwise its own port. */
  healthPort?: number;
  /** The program's listeners (app.listen) whose home is this node, by their index in app.listen. */
  listeners: { index: number; port: number }[];
  mounts: MountConfig[];
  /** Guest path → storage size of a claim per node. */
  claims: Record<string, string>;
  resources: IResourceRequirements;
  peerTimeoutS: number;
}

export function meta(name: string, labels: Record<string, string>): { name: string; labels: Record<string, string> } {
  return { name, labels };
}

/**
 * The ports a node's pod serves to others, each through its Service: the node's own (gRPC, the cluster's calls), a
 * browser node's page for its tab (browser.port), and the program's listeners homed here (app.listen), which its
 * clients dial at the Service. Port names are at most 15 characters (IANA service names).
 */
export function servedPorts(node: NodeConfig, c: Pick<NodeObjectsContext, 'listeners'>): { name: string; port: number }[] {
  return [
    { name: 'grpc', port: node.port },
    ...(node.browser ? [{ name: 'browser', port: node.browser.port }] : []),
    ...c.listeners.map((l) => ({ name: `listen-${l.index}`, port: l.port })),
  ];
}

export function nodeObjects(node: NodeConfig, c: NodeObjectsContext): K8sObject[] {
  const labels = { ...c.common, 'kafu-node-id': labelValue(node.id, `node ${node.id}`) };
  const placement = labelValue(node.placement ?? node.id, `node ${node.id}: placement`);
  const served = servedPorts(node, c);
  const objects: K8sObject[] = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(c.service, labels),
      spec: { selector: labels, ports: served.map(({ name, port }) => ({ name, protocol: 'TCP' as const, port, targetPort: name })) },
    },
  ];
  const volumes: IVolume[] = [
    { name: 'work', emptyDir: {} },
    { name: 'config', configMap: { name: c.configMap } },
  ];
  const mounts: IVolumeMount[] = [
    { name: 'work', mountPath: POD_DIR },
    { name: 'config', mountPath: podPath(CONFIG_FILE), subPath: CONFIG_FILE, readOnly: true },
  ];
  if (c.moduleMap) {
    volumes.push({ name: 'module', configMap: { name: c.moduleMap } });
    mounts.push({ name: 'module', mountPath: podPath(MODULE_DIR), readOnly: true });
  }
  c.mounts.forEach((m, i) => {
    const volume = `mount-${i}`;
    const size = c.claims[m.guest];
    if (size === undefined) volumes.push({ name: volume, emptyDir: {} });
    else {
      const claim = c.name(`${node.id}-mount-${i}`, `claim for mount ${m.guest} of node ${node.id}`);
      objects.push({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: meta(claim, labels),
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } },
      });
      volumes.push({ name: volume, persistentVolumeClaim: { claimName: claim } });
    }
    mounts.push({ name: volume, mountPath: podPath(mountDir(i)) });
  });
  if (c.tlsSecret) {
    // Each pod gets the CA and only its own certificate and key.
    const items = [TLS_CA_KEY, tlsCertKey(node.id), tlsKeyKey(node.id)].map((key) => ({ key, path: key }));
    volumes.push({ name: 'tls', secret: { secretName: c.tlsSecret, items, defaultMode: 0o440 } });
    mounts.push({ name: 'tls', mountPath: podPath(TLS_DIR), readOnly: true });
  }
  const health = c.healthPort === undefined ? [] : ['--health-port', String(c.healthPort)];
  const probe = { grpc: { port: c.healthPort ?? node.port } };
  objects.push({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(c.service, labels),
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          nodeSelector: { 'kafu-node': placement },
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: IMAGE_UID,
            runAsGroup: IMAGE_UID,
            fsGroup: IMAGE_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'kafu',
              image: c.image,
              command: [ENTRYPOINT],
              args: ['serve', '--node-id', node.id, '--listen', '0.0.0.0', '--peer-timeout', String(c.peerTimeoutS), ...health, CONFIG_FILE],
              workingDir: POD_DIR,
              env: [{ name: 'KAFU_LOG', value: 'info' }],
              ports: [
                ...served.map(({ name, port }) => ({ name, containerPort: port, protocol: 'TCP' as const })),
                ...(c.healthPort === undefined ? [] : [{ name: 'health', containerPort: c.healthPort, protocol: 'TCP' as const }]),
              ],
              readinessProbe: { ...probe, periodSeconds: 2 },
              livenessProbe: { ...probe, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
              resources: c.resources,
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  });
  return objects;
}
