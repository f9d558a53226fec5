// The list of subcommands. Each file registers one tool. A command loads only its own tool (serve's gRPC and TLS
// stack, certs' X.509 library … take ~0.5 s to import): `kafu clang` of a cached build answers in a blink.
import type { Command } from 'commander';

type Register = (program: Command) => void;
const COMMANDS: Record<string, () => Promise<Register>> = {
  clang: async () => (await import('./clang.js')).registerClang,
  'clang++': async () => (await import('./clang.js')).registerClang,
  singlenode: async () => (await import('./singlenode.js')).registerSinglenode,
  serve: async () => (await import('./serve.js')).registerServe,
  certs: async () => (await import('./certs.js')).registerCerts,
  inspect: async () => (await import('./inspect.js')).registerInspect,
  run: async () => (await import('./run.js')).registerRun,
  kustomize: async () => (await import('./kustomize.js')).registerKustomize,
  doctor: async () => (await import('./doctor.js')).registerDoctor,
};

/** Register the command `argv` names (the first non-option argument), or every command (help, a typo). */
export async function registerCommands(program: Command, argv: string[]): Promise<void> {
  const first = argv.find((a) => !a.startsWith('-'));
  if (first === undefined && argv.some((a) => a === '-V' || a === '--version')) return; // `kafu --version` needs none
  const only = first !== undefined && Object.hasOwn(COMMANDS, first) ? COMMANDS[first]! : undefined;
  const loaders = only ? [only] : [...new Set(Object.values(COMMANDS))];
  const registered = new Set<Register>();
  for (const load of loaders) {
    const register = await load();
    if (registered.has(register)) continue; // clang registers clang and clang++
    registered.add(register);
    register(program);
  }
}
