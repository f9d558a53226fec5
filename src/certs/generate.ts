// Certificates for mutual TLS between the nodes of a cluster: one CA, and per node a certificate whose common name
// is the node's id (its identity: peers check it against the config) signed by that CA. ECDSA P-256 keys through
// WebCrypto and @peculiar/x509 for the ASN.1 — nothing hand-written. Used by `kafu certs` and by `kafu serve --all`,
// which makes an ephemeral set for a local run.
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509';
import { createPrivateKey, webcrypto } from 'node:crypto';
import { UserError } from '../core/errors.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC: EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 86_400_000;
/** X.509's upper bound for a common name (RFC 5280, ub-common-name). */
const MAX_CN = 64;

export interface Pem {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends Pem {
  cert: x509.X509Certificate;
  key: CryptoKey;
  signing: EcdsaParams | RsaHashedImportParams;
}

function serial(): string {
  // Positive, random, at most 20 bytes (RFC 5280 §4.1.2.2).
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0]! &= 0x7f;
  return Buffer.from(b).toString('hex');
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** A new CA for one cluster (`name`: the config's name, for people reading the certificate). */
export async function createCa(name: string, days: number): Promise<CertificateAuthority> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [`kafu CA ${name}`.slice(0, MAX_CN)] }],
    notBefore: new Date(Date.now() - 5 * 60_000), // tolerate a little clock skew between machines
    notAfter: new Date(Date.now() + days * DAY_MS),
    keys,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, key: keys.privateKey, signing: EC, certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}

/** An existing CA (PEM), to issue or rotate node certificates under it. ECDSA and RSA keys are accepted. */
export async function loadCa(certPem: string, keyPemText: string, where: string): Promise<CertificateAuthority> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch (e) {
    throw new UserError(`${where}: the CA certificate is not a PEM certificate (${(e as Error).message})`);
  }
  if (!cert.getExtension(x509.BasicConstraintsExtension)?.ca) throw new UserError(`${where}: the certificate is not a CA certificate`);
  let ko;
  try {
    ko = createPrivateKey(keyPemText);
  } catch (e) {
    throw new UserError(`${where}: the CA key is not a PEM private key (${(e as Error).message})`);
  }
  const der = ko.export({ type: 'pkcs8', format: 'der' });
  let signing: EcdsaParams | RsaHashedImportParams;
  let importAlg: EcKeyImportParams | RsaHashedImportParams;
  if (ko.asymmetricKeyType === 'ec') {
    const curve = ko.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined;
    if (!namedCurve) throw new UserError(`${where}: unsupported EC curve ${curve ?? '?'} (P-256 or P-384)`);
    importAlg = { name: 'ECDSA', namedCurve };
    signing = { name: 'ECDSA', hash: namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384' };
  } else if (ko.asymmetricKeyType === 'rsa') {
    importAlg = signing = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  } else {
    throw new UserError(`${where}: unsupported CA key type ${ko.asymmetricKeyType ?? '?'} (ECDSA or RSA)`);
  }
  const key = await webcrypto.subtle.importKey('pkcs8', der, importAlg, false, ['sign']);
  return { cert, key, signing, certPem, keyPem: keyPemText };
}

/**
 * A node's certificate: CN = node id (what peers check), usable as TLS server and client, with the node's address
 * as subject alternative name so that ordinary TLS tools can verify it too.
 */
export async function issueNodeCert(ca: CertificateAuthority, nodeId: string, address: string, days: number): Promise<Pem> {
  if (nodeId.length > MAX_CN) throw new UserError(`node id ${nodeId} is longer than a certificate name may be (${MAX_CN})`);
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const isIp = /^[\d.]+$/.test(address) || address.includes(':');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: [{ CN: [nodeId] }],
    issuer: ca.cert.subjectName,
    notBefore: new Date(Date.now() - 5 * 60_000),
    notAfter: new Date(Math.min(Date.now() + days * DAY_MS, ca.cert.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ca.signing,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: isIp ? 'ip' : 'dns', value: address }]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}
