// The bundled toolchain's driver, run step by step so that its final link can run a second time from the same
// object files with the function table placed higher (`--table-base`): comparing the two modules tells which
// constants are function addresses (src/instrument/function-addresses.ts), for the instrumenter's points-to
// analysis of indirect calls. @yowasp/clang's runClang does the same walk (clang -###, then each command in one
// in-memory tree) but keeps the object files to itself; this is that walk, plus the second link.
import { TWIN_TABLE_BASE } from '../instrument/function-addresses.js';
import type { YowaspClang, YowaspRunOptions, YowaspTree } from './toolchain.js';

/** The commands of a `clang -###` listing (each a list of arguments), or undefined if it is not one. */
export function parseDriverListing(text: string): string[][] | undefined {
  const commands: string[][] = [];
  let listing = false;
  for (const line of text.split('\n')) {
    if (!listing) {
      if (/^(clang version |Target: |Thread model: |InstalledDir:|Build config: )/.test(line) || line.startsWith('clang')) continue;
      listing = true;
    }
    if (line === ' (in-process)') continue;
    if (line === '') return commands.length > 0 ? commands : undefined;
    if (!line.startsWith(' "')) return undefined;
    const args = [...line.matchAll(/ "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
    if (args[0] === '') args.shift();
    commands.push(args);
  }
  return undefined;
}

const components = (path: string) => path.split('/').filter((c) => c !== '' && c !== '.');

function fileAt(tree: YowaspTree, path: string): Uint8Array | undefined {
  let node: YowaspTree | string | Uint8Array | undefined = tree;
  for (const c of components(path)) {
    if (node === undefined || typeof node === 'string' || node instanceof Uint8Array) return undefined;
    node = node[c];
  }
  return node instanceof Uint8Array ? node : undefined;
}

function putFile(tree: YowaspTree, path: string, bytes: Uint8Array): void {
  const parts = components(path);
  const name = parts.pop()!;
  let dir = tree;
  for (const c of parts) dir = dir[c] as YowaspTree;
  dir[name] = bytes;
}

/**
 * Run clang as `yowasp.runClang(fullArgs, tree, options)` would, and when its last step is a wasm-ld link whose
 * output `wanted` (a module with migration points), link once more with `--table-base=TWIN_TABLE_BASE`: the
 * returned tree holds the ordinary link's output, and `twin` the second one (undefined if that link failed: the
 * caller then does without). Undefined when the driver's
 * listing cannot be read (the caller runs runClang as usual, which reports what went wrong).
 */
export async function runClangWithTwin(
  yowasp: YowaspClang,
  fullArgs: string[],
  tree: YowaspTree,
  options: YowaspRunOptions,
  wanted: (linked: Uint8Array) => boolean,
): Promise<{ tree: YowaspTree; twin?: Uint8Array } | undefined> {
  const [argv0, ...rest] = fullArgs;
  let listing = '';
  const decoder = new TextDecoder();
  const capture = (b: Uint8Array | null) => void (b && (listing += decoder.decode(b, { stream: true })));
  try {
    await yowasp.runLLVM([argv0!, '-###', ...rest], tree, { stdout: capture, stderr: capture });
  } catch {
    return undefined;
  }
  const commands = parseDriverListing(listing);
  const link = commands?.at(-1);
  const output = link?.[0] === 'wasm-ld' ? link[link.lastIndexOf('-o') + 1] : undefined;
  if (!commands || output === undefined) return undefined;
  if (fullArgs.includes('-v')) options.stderr?.(new TextEncoder().encode(listing));
  let files = tree;
  try {
    for (const command of commands) files = (await yowasp.runLLVM(command, files, options))!;
  } catch (e) {
    if (e instanceof yowasp.Exit) delete e.files['tmp'];
    throw e;
  }
  const linked = fileAt(files, output);
  let twin: Uint8Array | undefined;
  if (linked && wanted(linked)) {
    try {
      // Its diagnostics are the first link's again.
      files = (await yowasp.runLLVM([...link!, `--table-base=${TWIN_TABLE_BASE}`], files, { stdout: () => {}, stderr: () => {} }))!;
      twin = fileAt(files, output);
      putFile(files, output, linked);
    } catch (e) {
      if (!(e instanceof yowasp.Exit)) throw e;
      files = e.files;
      putFile(files, output, linked);
    }
  }
  delete files['tmp'];
  return { tree: files, ...(twin ? { twin } : {}) };
}
