// `cluster.tls` as `kafu kustomize build` needs it: the files each node reads, which a Secret delivers to the pods.
import type { KafuConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';

export interface TlsFiles {
  /** Paths relative to the config file; `${node}` stands for the node id in cert and key. */
  ca: string;
  cert: string;
  key: string;
}

/**
 * The config's TLS files, or undefined when the config says `tls: plaintext`. Without cluster.tls the pods' nodes
 * would refuse to start (kafu serve needs one or the other), so that is refused here, with the fix.
 */
export function tlsFiles(config: KafuConfig, file: string): TlsFiles | undefined {
  const tls = config.cluster.tls;
  if (tls === 'plaintext') return undefined;
  if (tls === undefined) {
    throw new UserError(
      `${file}: cluster.tls is not set, and the nodes of a cluster must authenticate each other: generate certificates ` +
        `with \`kafu certs ${file}\`, add the cluster.tls it prints (the pods then get the files from a Secret), or set ` +
        '`cluster: { tls: plaintext }` for a trusted network',
    );
  }
  return tls;
}
