// What the CLI says when kafu itself fails (a bug, not the user's mistake): one line that says so, what failed and
// where to report it, instead of Node's uncaught-exception dump (for binaryen, a line of minified source hundreds of
// characters long). The stack is for whoever fixes it: printed only when asked for (KAFU_DEBUG=1, or a debug log
// level: KAFU_LOG=debug / RUST_LOG=debug).
import { envLogLevel } from './arg-parsers.js';

/** Whether the environment asks for internal errors' stacks. */
export function wantsStack(env: NodeJS.ProcessEnv): boolean {
  const debug = env['KAFU_DEBUG'];
  return (debug !== undefined && debug !== '' && debug !== '0') || envLogLevel(env) === 'debug';
}

/** The text (ending in a newline) for an error kafu did not expect, with its stack when `stack`. */
export function internalErrorText(e: unknown, version: string, stack: boolean): string {
  const message = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : describe(e);
  // The first line, cut short: a message may carry a whole module's text.
  const first = message.split('\n', 1)[0]!.trim();
  const what = first.length > 300 ? `${first.slice(0, 300)}…` : first || '(no message)';
  const line =
    `kafu: internal error: ${what} — this is a bug in kafu ${version}, not in your program or command; please ` +
    'report it to the Kafu maintainers (the issue tracker of the repository kafu came from) with the command line ' +
    `and its input files${stack ? '' : '; KAFU_DEBUG=1 prints the stack'}\n`;
  if (!stack) return line;
  return line + (e instanceof Error && e.stack ? e.stack : describe(e)) + '\n';
}

function describe(e: unknown): string {
  try {
    return typeof e === 'object' && e !== null ? `${e.constructor?.name ?? 'object'} ${JSON.stringify(e)}` : String(e);
  } catch {
    return 'an object that cannot be printed';
  }
}
