// Where things are inside a node's pod. Everything the node reads or writes lives under one writable folder (its
// working directory), and the config the pod sees names it with paths relative to the config file: so the config
// works wherever that folder is (the local test harness runs a pod in a temporary folder), and a hand-off that
// cannot be delivered can save the program next to the config, as `kafu serve` does.
export const POD_DIR = '/var/lib/kafu';
export const CONFIG_FILE = 'kafu-config.yaml';
/** The embedded module's folder (a ConfigMap volume). */
export const MODULE_DIR = 'module';
/** TLS files (a Secret volume): ca.crt, <node>.crt, <node>.key. */
export const TLS_DIR = 'tls';
/** The command the image's entrypoint provides (Dockerfile: ENTRYPOINT ["kafu"]). */
export const ENTRYPOINT = 'kafu';
/** The image's user and group (Dockerfile: USER 1000:1000), so that runAsNonRoot can be checked by the kubelet. */
export const IMAGE_UID = 1000;

/** The folder of the config's i-th mount (app.mounts in order, preopened_dir first). */
export const mountDir = (i: number): string => `mounts/${i}`;

export const podPath = (relative: string): string => `${POD_DIR}/${relative}`;

/** Secret keys: the CA and each node's own certificate and key (a pod mounts only its own). */
export const TLS_CA_KEY = 'ca.crt';
export const tlsCertKey = (node: string): string => `${node}.crt`;
export const tlsKeyKey = (node: string): string => `${node}.key`;
