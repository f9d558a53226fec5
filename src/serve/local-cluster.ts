// `kafu serve --all CONFIG`: every node of the config as its own `kafu serve --node-id` process on this machine,
// talking gRPC over the configured addresses, exactly as on separate machines. Log lines get the node id as a
// prefix; program output is not touched. The first node gets this terminal's stdin. A config without cluster.tls
// gets a temporary CA and node certificates (removed at the end), so the local cluster is mutual TLS as well.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../node/config-file.js';

const KAFU_BIN = fileURLToPath(new URL('../../../bin/kafu.js', import.meta.url));
/** After one node exits, how long the others get to follow on their own before they are stopped. */
const GRACE_MS = 5000;

/** `flags` go to every node, `firstFlags` to the first node only. */
export async function serveAll(configFile: string, flags: string[], firstFlags: string[] = []): Promise<number> {
  const { config } = loadConfigFile(configFile); // errors here are the user's, before anything starts
  const width = Math.max(...config.nodes.map((n) => n.id.length));
  const certDir = config.cluster.tls === undefined ? mkdtempSync(join(tmpdir(), 'kafu-certs-')) : undefined;
  try {
    // The X.509 library costs ~0.25 s of CPU to load: only a config without cluster.tls needs it.
    if (certDir) await (await import('../certs/files.js')).writeClusterCerts(config.name, config.nodes, certDir, { days: 30 });
    const tlsFlags = (id: string) => (certDir ? ['--tls-ca', join(certDir, 'ca.crt'), '--tls-cert', join(certDir, `${id}.crt`), '--tls-key', join(certDir, `${id}.key`)] : []);
    return await run(config.nodes, width, (id, i) => [...flags, ...tlsFlags(id), ...(i === 0 ? firstFlags : [])], configFile);
  } finally {
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  }
}

async function run(nodes: { id: string }[], width: number, flagsOf: (id: string, i: number) => string[], configFile: string): Promise<number> {
  const children = nodes.map((n, i) => ({
    id: n.id,
    child: spawn(process.execPath, [KAFU_BIN, 'serve', '--node-id', n.id, ...flagsOf(n.id, i), configFile], {
      stdio: [i === 0 ? 'inherit' : 'ignore', 'inherit', 'inherit'],
      env: { ...process.env, KAFU_LOG_PREFIX: `[${n.id.padEnd(width)}] ` },
    }),
  }));
  /** Children this process stopped itself (their signal is no news). */
  const stopped = new Set<ChildProcess>();
  const exits = children.map(({ id, child }) =>
    exitOf(child).then(({ code, signal }) => {
      // A node killed by a signal (from outside, or its runtime crashing) logs nothing itself: said here.
      if (signal !== null && !stopped.has(child)) process.stderr.write(`kafu: node ${id} ended by ${signal}\n`);
      return code;
    }),
  );
  let stopping: NodeJS.Timeout | undefined;
  for (const e of exits) {
    void e.then(() => {
      stopping ??= setTimeout(() => {
        for (const { child } of children) {
          if (child.exitCode === null && child.signalCode === null) {
            stopped.add(child);
            child.kill('SIGTERM');
          }
        }
      }, GRACE_MS);
    });
  }
  const codes = await Promise.all(exits);
  clearTimeout(stopping);
  // The first node's code is the program's; if we had to stop it, the code of a node that failed on its own.
  return codes[0] ?? codes.find((c) => c !== null && c !== 0) ?? 1;
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', () => resolve({ code: 1, signal: null }));
  });
}
