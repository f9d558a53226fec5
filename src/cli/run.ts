// `kafu run MODULE [ARGS…]`: run any WASI preview1 module on Kafu's library OS (no migration).
import { Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import { wasmBacktrace } from '../core/trap.js';
import { createLogger } from '../core/log.js';
import { writeLogLine, writeProgramStderr } from '../node/stderr-line.js';
import { NodeFsBackend } from '../node/fs-backend.js';
import { LocalSockets } from '../node/local-sockets.js';
import { NO_NN_CONFIG, NodeNn } from '../node/node-nn.js';
import { readProcessStdin } from '../node/stdin.js';
import { runWasiModule } from '../run/run.js';
import { collect, collectParsed, hostPort } from './arg-parsers.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run a WASI preview1 module (any, not only Kafu-built ones) on Kafu\'s library OS; exits with its exit code')
    .argument('<module>', 'a .wasm file')
    .argument('[args...]', 'arguments passed to the program')
    .option('--dir <HOST[::GUEST]>', 'preopen host folder HOST as GUEST (default: the same path); repeatable', collect, [])
    .option('--env <K=V>', 'set an environment variable; repeatable', collect, [])
    .option('--inherit-env', 'pass this process\'s whole environment to the program')
    .option(
      '--tcplisten <HOST:PORT>',
      'give the program a listening TCP socket on HOST:PORT (the descriptor after the --dir folders); repeatable',
      collectParsed(hostPort),
      [],
    )
    .passThroughOptions()
    .action(async (file: string, args: string[], o: { dir: string[]; env: string[]; inheritEnv?: boolean; tcplisten: Array<{ address: string; port: number }> }) => {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
      }
      // --env wins over an inherited variable of the same name.
      const env = new Map<string, string>(o.inheritEnv ? Object.entries(process.env).map(([k, v]) => [k, v ?? '']) : []);
      for (const kv of o.env) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new UserError(`--env ${kv}: expected KEY=VALUE`);
        env.set(kv.slice(0, eq), kv.slice(eq + 1));
      }
      const preopens = o.dir.map((spec) => {
        const [host, guest] = spec.split('::') as [string, string | undefined];
        const dir = resolve(host);
        if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
          throw new UserError(`--dir ${spec}: ${host} is not a folder on this machine`);
        }
        return { guestPath: guest ?? host, backend: new NodeFsBackend(dir) };
      });
      const sockets = o.tcplisten.length > 0 ? new LocalSockets() : undefined;
      try {
        const listeners = sockets?.listen(o.tcplisten.map((l) => ({ home: 'local', ...l, what: `--tcplisten ${l.address}:${l.port}` })));
        process.exitCode = await runWasiModule(bytes, file, {
          args: [basename(file), ...args],
          env: [...env].map(([k, v]) => `${k}=${v}`),
          preopens,
          stdout: (b) => void process.stdout.write(b),
          stderr: writeProgramStderr,
          stdin: readProcessStdin,
          sockets: sockets?.host,
          listeners,
          // WASI-NN with ONNX Runtime, as on a node (no named models: load_by_name gives not_found).
          moreHost: (wasi) =>
            new NodeNn(NO_NN_CONFIG, createLogger((l) => void process.stderr.write(l))).host('local', (p, max) => wasi.readFile(p, max)),
          onTrap: (e) => {
            writeLogLine(`kafu run: the program trapped: ${e.message}\n`);
            for (const frame of wasmBacktrace(e)) process.stderr.write(`    at ${frame}\n`);
          },
        });
      } finally {
        await sockets?.close();
      }
    });
}
