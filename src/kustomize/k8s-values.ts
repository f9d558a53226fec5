// The Kubernetes rules for the values `kafu kustomize build` puts into objects (names, label values, quantities):
// checked here, before anything is printed, so that a bad node id or option is one clear error naming it rather
// than a manifest the API server rejects later. The schema validation in the tests does not cover these rules.
import { UserError } from '../core/errors.js';

/** A Service name (RFC 1035 label): what peers dial, so also a DNS name in the pod's config. */
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** Resource quantities (`100m`, `256Mi`, `1.5`, `2e3`). */
const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;
const MAX_NAME = 63;

/** `name` as an object name that is also a DNS label (Services, Jobs: their names end up in labels too). */
export function objectName(name: string, what: string): string {
  if (name.length > MAX_NAME || !DNS_1035_LABEL.test(name)) {
    throw new UserError(
      `${what}: "${name}" cannot name a Kubernetes object: it must be at most ${MAX_NAME} characters of a-z, 0-9 ` +
        'and -, start with a letter and end with a letter or digit',
    );
  }
  return name;
}

export function labelValue(value: string, what: string): string {
  if (value.length > MAX_NAME || !LABEL_VALUE.test(value)) {
    throw new UserError(
      `${what}: "${value}" is not a Kubernetes label value: at most ${MAX_NAME} characters of A-Z, a-z, 0-9, -, _ and ., ` +
        'starting and ending with a letter or digit',
    );
  }
  return value;
}

export function quantity(value: string, what: string): string {
  if (!QUANTITY.test(value)) throw new UserError(`${what}: "${value}" is not a Kubernetes quantity (like 250m, 512Mi, 2)`);
  return value;
}

/** `cpu=250m,memory=512Mi` → { cpu: '250m', memory: '512Mi' } (resources requests or limits). */
export function resourceList(spec: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    if (eq <= 0 || !/^[a-z][-a-z0-9./]*$/.test(name)) throw new UserError(`${what} ${spec}: expected NAME=QUANTITY[,…], like cpu=250m,memory=512Mi`);
    out[name] = quantity(part.slice(eq + 1).trim(), `${what} ${name}`);
  }
  return out;
}
