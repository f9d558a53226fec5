// `kafu certs CONFIG`: a CA and a certificate per node for the config's cluster (mutual TLS, cluster.tls).
import { Command, InvalidArgumentError } from 'commander';
import { dirname, join, relative, resolve } from 'node:path';
import { loadConfigFile } from '../node/config-file.js';

interface CertsFlags {
  out?: string;
  days: number;
  node?: string[];
  newCa?: boolean;
}

export function registerCerts(program: Command): void {
  program
    .command('certs')
    .description(
      'Generate a CA and one certificate per node (its common name is the node id) for mutual TLS between the nodes. ' +
        'Run again to rotate the node certificates under the same CA; --new-ca replaces the CA too.',
    )
    .argument('<config>', 'kafu-config.yaml')
    .option('--out <dir>', 'where to write ca.crt, ca.key, <node>.crt, <node>.key (default: certs/ next to the config)')
    .option('--days <n>', 'validity of the node certificates in days', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 3650) throw new InvalidArgumentError('expected a whole number of days from 1 to 3650');
      return n;
    }, 365)
    .option('--node <id...>', 'only these nodes (e.g. to add a node or replace one node\'s key)')
    .option('--new-ca', 'make a new CA even if the folder has one (every node must then get its new files)')
    .action(async (config: string, o: CertsFlags) => {
      const { config: c, file } = loadConfigFile(config);
      const configDir = dirname(resolve(file));
      const dir = resolve(o.out ?? join(configDir, 'certs'));
      // Loaded here: the X.509 library takes ~0.25 s of CPU to load, which `kafu certs --help` need not pay.
      const { writeClusterCerts } = await import('../certs/files.js');
      const r = await writeClusterCerts(c.name, c.nodes, dir, { days: o.days, only: o.node, newCa: o.newCa });
      for (const f of r.files) process.stderr.write(`kafu: wrote ${f}\n`);
      if (!r.caCreated) process.stderr.write(`kafu: reused the CA in ${dir} (--new-ca to replace it)\n`);
      const rel = relative(configDir, dir) || '.';
      const p = rel.startsWith('..') || rel.startsWith('/') ? dir : `./${rel}`;
      process.stdout.write(
        `# add to ${config} (keep ca.key off the nodes; each node needs ca.crt and its own .crt and .key):\n` +
          `cluster:\n  tls:\n    ca: ${p}/ca.crt\n    cert: ${p}/\${node}.crt\n    key: ${p}/\${node}.key\n`,
      );
    });
}
