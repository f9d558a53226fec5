// `kafu serve --node-id ID CONFIG` (one node per process, as in production) and `kafu serve --all CONFIG` (every
// node of the config as its own process on this machine, for trying a cluster locally).
import { Command, Option } from 'commander';
import { UserError } from '../core/errors.js';
import { createLogger, parseLevel } from '../core/log.js';
import { writeLogLine } from '../node/stderr-line.js';
import { envLogLevel, wholeNumber } from './arg-parsers.js';

interface ServeFlags {
  nodeId?: string;
  all?: boolean;
  listen?: string;
  logLevel: string;
  peerTimeout: number;
  forceMigrationEvery?: number;
  resume?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  healthPort?: number;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'Run one node of a Kafu program (gRPC server + runtime). The first node in the config starts the program once ' +
        'every other node answers; the others wait for migrations. Every node exits with the program\'s exit code.',
    )
    .argument('<config>', 'kafu-config.yaml')
    .option('--node-id <id>', 'which node of the config this process is')
    .option('--all', 'start every node of the config as its own process on this machine (exit code: the program\'s)')
    .option('--listen <host>', 'address to listen on (default: the node\'s address if it is an IP, else 0.0.0.0)')
    .option('--log-level <level>', 'error, warn, info or debug (also KAFU_LOG, or RUST_LOG as the original Kafu reads it)', envLogLevel())
    .addOption(
      new Option('--peer-timeout <seconds>', 'how long to wait for a node that does not answer').default(60).argParser(wholeNumber(1)),
    )
    .option('--resume <file>', 'first node: continue a program saved when a migration could not be delivered')
    .option('--tls-ca <file>', 'the cluster\'s CA certificate (PEM), instead of cluster.tls.ca')
    .option('--tls-cert <file>', 'this node\'s certificate (PEM, common name = node id), instead of cluster.tls.cert')
    .option('--tls-key <file>', 'this node\'s private key (PEM), instead of cluster.tls.key')
    .option('--health-port <port>', 'also serve the gRPC health service alone, in plaintext, on this port (probes)', wholeNumber(1))
    .option(
      '--force-migration-every <n>',
      'testing: also move the program to the next node after every n-th WASI call (build with --kafu-syscall-points)',
      wholeNumber(1),
    )
    .action(async (config: string, o: ServeFlags) => {
      if (Boolean(o.all) === (o.nodeId !== undefined)) throw new UserError('give exactly one of --node-id ID and --all');
      const passOn = [
        `--log-level=${o.logLevel}`,
        `--peer-timeout=${o.peerTimeout}`,
        ...(o.forceMigrationEvery ? [`--force-migration-every=${o.forceMigrationEvery}`] : []),
      ];
      const tlsFlags = o.tlsCa !== undefined || o.tlsCert !== undefined || o.tlsKey !== undefined;
      if (o.all) {
        if (tlsFlags || o.healthPort !== undefined) throw new UserError('--tls-* and --health-port are per node: use them with --node-id');
        // Loaded here, not above: `kafu serve --help` and argument mistakes need neither (nodes load gRPC and friends).
        const { serveAll } = await import('../serve/local-cluster.js');
        process.exitCode = await serveAll(config, passOn, o.resume === undefined ? [] : [`--resume=${o.resume}`]);
        return;
      }
      if (o.healthPort !== undefined && o.healthPort > 65535) throw new UserError('--health-port: expected a port from 1 to 65535');
      const logPrefix = process.env.KAFU_LOG_PREFIX ?? '';
      const log = createLogger(writeLogLine, parseLevel(o.logLevel), logPrefix);
      const { serveNode } = await import('../serve/serve.js');
      process.exitCode = await serveNode(config, {
        nodeId: o.nodeId!,
        log,
        logLevel: o.logLevel,
        logPrefix,
        listen: o.listen,
        peerTimeoutMs: o.peerTimeout * 1000,
        forceMigrationEvery: o.forceMigrationEvery,
        resume: o.resume,
        tlsFiles: tlsFlags ? { ca: o.tlsCa, cert: o.tlsCert, key: o.tlsKey } : undefined,
        healthPort: o.healthPort,
      });
    });
}
