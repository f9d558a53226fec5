// Mutual TLS between nodes (cluster.tls): loading and checking this node's files, the gRPC credentials built from
// them, and a caller's identity. Every node presents a certificate signed by the cluster's CA whose common name is
// its node id; a client checks that the server it reached is the node the config names, a server that the caller is
// some node of the cluster (access.ts decides what each node may call).
import * as grpc from '@grpc/grpc-js';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { TlsConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';

/** PEM files for this node; a plaintext cluster has none. */
export interface NodeTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** When this node's certificate stops being valid. */
  notAfter: Date;
}

/** Paths given on the command line (kafu serve --tls-ca/--tls-cert/--tls-key), taking precedence over the config. */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

export const PLAINTEXT_WARNING =
  'cluster.tls: plaintext — node traffic is neither encrypted nor authenticated: anyone who reaches a node\'s port ' +
  'can read and change the program. Use it on a trusted network only.';

/** The node's TLS material, checked: undefined for an explicitly plaintext cluster; a UserError naming the fix. */
export function loadNodeTls(configFile: string, tls: TlsConfig | undefined, nodeId: string, flags: TlsFiles = {}): NodeTls | undefined {
  const fromFlags = flags.ca !== undefined || flags.cert !== undefined || flags.key !== undefined;
  if (fromFlags && !(flags.ca && flags.cert && flags.key)) throw new UserError('give all three of --tls-ca, --tls-cert and --tls-key');
  if (!fromFlags && tls === 'plaintext') return undefined;
  if (!fromFlags && tls === undefined) {
    throw new UserError(
      `${configFile}: cluster.tls is not set, so nodes could not authenticate each other. Generate certificates with ` +
        `\`kafu certs ${configFile}\` and add the cluster.tls it prints, or set \`cluster: { tls: plaintext }\` for a ` +
        'trusted network (`kafu serve --all` makes temporary certificates by itself).',
    );
  }
  const dir = dirname(resolve(configFile));
  const files = fromFlags
    ? { ca: resolve(flags.ca!), cert: resolve(flags.cert!), key: resolve(flags.key!) }
    : (() => {
        const t = tls as Exclude<TlsConfig, 'plaintext'>;
        const at = (p: string) => resolve(dir, p.replaceAll('${node}', nodeId));
        return { ca: at(t.ca), cert: at(t.cert), key: at(t.key) };
      })();
  const field = (k: keyof typeof files) => (fromFlags ? `--tls-${k} ${files[k]}` : `cluster.tls.${k} (${files[k]})`);
  const read = (k: keyof typeof files) => {
    try {
      return readFileSync(files[k]);
    } catch (e) {
      throw new UserError(`${field(k)}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const [ca, cert, key] = [read('ca'), read('cert'), read('key')];
  const parse = (k: 'ca' | 'cert', b: Buffer) => {
    try {
      return new X509Certificate(b);
    } catch {
      throw new UserError(`${field(k)}: not a PEM certificate`);
    }
  };
  const caCert = parse('ca', ca);
  const own = parse('cert', cert);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new UserError(`${field('key')}: not a PEM private key`);
  }
  if (!caCert.ca) throw new UserError(`${field('ca')}: not a CA certificate`);
  if (!own.checkIssued(caCert) || !own.verify(caCert.publicKey)) {
    throw new UserError(`${field('cert')}: not signed by the CA in ${field('ca')}`);
  }
  const cn = commonNameOf(own.subject);
  if (cn !== nodeId) {
    throw new UserError(`${field('cert')}: the certificate is for node ${JSON.stringify(cn ?? '')}, not ${nodeId} (its common name must be the node id)`);
  }
  if (!own.checkPrivateKey(privateKey)) throw new UserError(`${field('key')}: does not belong to the certificate ${files.cert}`);
  const now = Date.now();
  const notAfter = new Date(own.validTo);
  if (new Date(own.validFrom).getTime() > now) throw new UserError(`${field('cert')}: not valid before ${own.validFrom}`);
  if (notAfter.getTime() <= now) throw new UserError(`${field('cert')}: expired on ${own.validTo}; rotate it with \`kafu certs\``);
  return { ca, cert, key, notAfter };
}

/** The CN of an X509Certificate's subject string ("CN=edge" lines), or undefined unless exactly one. */
function commonNameOf(subject: string): string | undefined {
  const cns = subject.split('\n').filter((l) => l.startsWith('CN=')).map((l) => l.slice(3));
  return cns.length === 1 ? cns[0] : undefined;
}

/** The node id a TLS peer proved: its certificate's single common name. */
export function peerNodeId(cert: PeerCertificate | undefined): string | undefined {
  const cn = cert?.subject?.CN as string | string[] | undefined;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

/** The node id a TLS connection's peer proved (its certificate checked against the cluster's CA), else undefined. */
export function socketPeer(socket: TLSSocket): string | undefined {
  return socket.authorized ? peerNodeId(socket.getPeerCertificate()) : undefined;
}

/** A client's check of the server it reached: its certificate (from our CA) must name node `expected`. */
export function serverIdentityCheck(expected: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const id = peerNodeId(cert);
    return id === expected ? undefined : new Error(`the node there presents a certificate for ${JSON.stringify(id ?? '')}, not ${expected}`);
  };
}

/** Options of the node's own TLS listener (node-listener.ts): what serverCredentials gives grpc-js. */
export function tlsServerOptions(tls: NodeTls, alpn: string[]): import('node:tls').TlsOptions {
  // requestCert and rejectUnauthorized: a client without a certificate from our CA does not get past the handshake.
  return { ca: tls.ca, cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: true, ALPNProtocols: alpn };
}

/** Options to reach node `expected` directly (handoff-transport.ts), checked as channelCredentials checks it. */
export function tlsClientOptions(tls: NodeTls, expected: string, alpn: string[]): import('node:tls').ConnectionOptions {
  // servername: the node id (peers are often reached by IP, which SNI cannot carry).
  return { ca: tls.ca, cert: tls.cert, key: tls.key, servername: expected, ALPNProtocols: alpn, checkServerIdentity: serverIdentityCheck(expected) };
}

export function serverCredentials(tls: NodeTls | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  // true: a client without a certificate from our CA does not get past the handshake.
  return grpc.ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
}

/** Credentials to reach node `expected`: its certificate must be from our CA and name it. */
export function channelCredentials(tls: NodeTls | undefined, expected: string): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca, tls.key, tls.cert, { checkServerIdentity: serverIdentityCheck(expected) });
}
