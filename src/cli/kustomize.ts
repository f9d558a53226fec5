// `kafu kustomize build CONFIG [--image IMAGE] [--instance-id ID]`: Kubernetes manifests for a Kafu program on
// stdout (the original Kafu's interface); what the user still has to do goes to stderr.
import { Command, Option } from 'commander';
import { UserError } from '../core/errors.js';
import { DEFAULT_IMAGE, DEFAULT_PEER_TIMEOUT_S, DEFAULT_REQUESTS, kustomizeBuild } from '../kustomize/build.js';
import { resourceList } from '../kustomize/k8s-values.js';
import { collect, wholeNumber } from './arg-parsers.js';

interface BuildFlags {
  image: string;
  instanceId?: string;
  claim?: string[];
  requests?: string;
  limits?: string;
  peerTimeout: number;
}

export function registerKustomize(program: Command): void {
  const kustomize = program.command('kustomize').description('Kubernetes manifests for a Kafu program');
  kustomize
    .command('build')
    .description(
      'Print the manifests that run CONFIG on Kubernetes: a ConfigMap with the config (and the module when the config ' +
        'gives app.path), and per node a Service and a Job running `kafu serve --node-id <id>`',
    )
    .argument('<config>', 'kafu-config.yaml')
    .option('--image <image>', 'container image of the node server (see the Dockerfile)', DEFAULT_IMAGE)
    .option('--instance-id <id>', 'prefix every name with ID- and label every object kafu-instance=ID')
    .option(
      '--claim <GUEST=SIZE>',
      'the mount at GUEST is a PersistentVolumeClaim of SIZE per node (default: an emptyDir); repeatable',
      collect,
    )
    .option('--requests <list>', `container resource requests (default: ${Object.entries(DEFAULT_REQUESTS).map(([k, v]) => `${k}=${v}`).join(',')})`)
    .option('--limits <list>', 'container resource limits, like cpu=1,memory=1Gi (default: none)')
    .addOption(
      new Option('--peer-timeout <seconds>', 'kafu serve --peer-timeout in the pods (scheduling and image pulls take time)')
        .default(DEFAULT_PEER_TIMEOUT_S)
        .argParser(wholeNumber(1)),
    )
    .action(async (config: string, o: BuildFlags) => {
      const claims: Record<string, string> = {};
      for (const c of o.claim ?? []) {
        const eq = c.lastIndexOf('=');
        if (eq <= 0) throw new UserError(`--claim ${c}: expected GUEST=SIZE, like /data=1Gi`);
        claims[c.slice(0, eq)] = c.slice(eq + 1);
      }
      const { yaml, notes } = await kustomizeBuild(config, {
        image: o.image,
        instanceId: o.instanceId,
        claims,
        requests: o.requests === undefined ? undefined : resourceList(o.requests, '--requests'),
        limits: o.limits === undefined ? undefined : resourceList(o.limits, '--limits'),
        peerTimeoutS: o.peerTimeout,
      });
      process.stdout.write(yaml);
      for (const n of notes) process.stderr.write(`kafu kustomize: note: ${n}\n`);
    });
}
