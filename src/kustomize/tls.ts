// `cluster.tls` as `kafu kustomize build` needs it: the files each node reads, which a Secret delivers to the pods.
// The config schema owns the key (mutual TLS between nodes); this reads the parsed value and accepts exactly the
// shapes the schema allows, so that a config the schema does not check yet is still not trusted blindly.
import type { KafuConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';

export interface TlsFiles {
  /** Paths relative to the config file; `${node}` stands for the node id in cert and key. */
  ca: string;
  cert: string;
  key: string;
}

/** The config's TLS files, or undefined when its nodes talk plaintext (no `cluster.tls`, or `tls: plaintext`). */
export function tlsFiles(config: KafuConfig, file: string): TlsFiles | undefined {
  const tls = (config.cluster as { tls?: unknown }).tls;
  if (tls === undefined || tls === 'plaintext') return undefined;
  const t = tls as Partial<Record<keyof TlsFiles, unknown>>;
  if (typeof tls !== 'object' || tls === null || ![t.ca, t.cert, t.key].every((v) => typeof v === 'string' && v !== '')) {
    throw new UserError(`${file}: cluster.tls: expected plaintext or a map of ca, cert and key file paths`);
  }
  return { ca: t.ca as string, cert: t.cert as string, key: t.key as string };
}
