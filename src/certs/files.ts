// A cluster's certificates as files: DIR/ca.crt, DIR/ca.key and per node DIR/<id>.crt, DIR/<id>.key — the layout
// `cluster.tls: { ca: DIR/ca.crt, cert: DIR/${node}.crt, key: DIR/${node}.key }` reads. Keys are written
// owner-only, and every file atomically (a node starting meanwhile never reads half a key).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { createCa, issueNodeCert, loadCa, type CertificateAuthority } from './generate.js';

export interface CertsOptions {
  days: number;
  /** Only these nodes (default: all). */
  only?: string[];
  /** Make a new CA even if DIR holds one (every node then needs its new files). */
  newCa?: boolean;
}

export interface CertsWritten {
  caCreated: boolean;
  files: string[];
}

function writeAtomic(file: string, text: string, secret: boolean): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: secret ? 0o600 : 0o644 });
  if (secret) chmodSync(tmp, 0o600); // also when an old umask-made file is replaced
  renameSync(tmp, file);
}

/** Create (or reuse) the CA in `dir` and issue the nodes' certificates. */
export async function writeClusterCerts(name: string, nodes: NodeConfig[], dir: string, o: CertsOptions): Promise<CertsWritten> {
  const unknown = (o.only ?? []).filter((id) => !nodes.some((n) => n.id === id));
  if (unknown.length > 0) throw new UserError(`--node ${unknown.join(', ')}: no such node in the config (${nodes.map((n) => n.id).join(', ')})`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caCert = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  let ca: CertificateAuthority;
  const reuse = !o.newCa && existsSync(caCert) && existsSync(caKey);
  const files: string[] = [];
  if (reuse) {
    ca = await loadCa(readFileSync(caCert, 'utf8'), readFileSync(caKey, 'utf8'), caCert);
  } else {
    ca = await createCa(name, Math.max(o.days, 1) * 2); // the CA outlives one round of node certificates
    writeAtomic(caKey, ca.keyPem, true);
    writeAtomic(caCert, ca.certPem, false);
    files.push(caCert, caKey);
  }
  for (const n of nodes.filter((x) => !o.only || o.only.includes(x.id))) {
    const pem = await issueNodeCert(ca, n.id, n.address, o.days);
    writeAtomic(join(dir, `${n.id}.key`), pem.keyPem, true);
    writeAtomic(join(dir, `${n.id}.crt`), pem.certPem, false);
    files.push(join(dir, `${n.id}.crt`), join(dir, `${n.id}.key`));
  }
  return { caCreated: !reuse, files };
}
