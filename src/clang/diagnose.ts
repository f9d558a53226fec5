// What the bundled toolchain cannot build, said as Kafu's limits with the way out, after the compiler's own words:
// C++ exceptions, setjmp/longjmp and threads. All three need engine features (the exception-handling proposal,
// shared memory) that Kafu's suspend/resume of the stack (Asyncify) cannot carry across a migration.
import { functionNames, parseSections } from '../core/wasm-sections.js';

const EXCEPTIONS =
  'C++ exceptions are not supported: the bundled C++ library has no exception runtime (__cxa_throw …), and a ' +
  'migration cannot carry a stack that is unwinding. Build without -fexceptions (kafu\'s default), and report errors ' +
  'with return values; library calls that would throw (std::vector::at …) abort instead.';
const EXCEPTIONS_IN_SOURCE =
  'C++ exceptions are not supported, so kafu builds C++ with -fno-exceptions: the bundled C++ library has no ' +
  'exception runtime, and a migration cannot carry a stack that is unwinding. Replace throw/try/catch with return ' +
  'values or error codes (passing -fexceptions only moves the error to the link).';
const SETJMP =
  'setjmp/longjmp are not supported: in WebAssembly they need the exception-handling proposal, which a migration ' +
  'cannot carry. Return error codes up the stack instead of longjmp.';

/** Notes for a failed compile or link, from its diagnostics. */
export function explainFailure(diagnostics: string): string[] {
  const notes: string[] = [];
  if (/undefined symbol: __cxa_(throw|allocate_exception|begin_catch|rethrow)/.test(diagnostics)) notes.push(EXCEPTIONS);
  else if (/cannot use '(throw|try)' with exceptions disabled/.test(diagnostics)) notes.push(EXCEPTIONS_IN_SOURCE);
  if (/Setjmp\/longjmp support requires|undefined symbol: (__wasm_setjmp|__wasm_longjmp|_?longjmp|_?setjmp)\b/.test(diagnostics)) {
    notes.push(SETJMP);
  }
  return notes;
}

/** Warnings for a linked module: what links but cannot work. */
export function linkWarnings(module: Uint8Array): string[] {
  let names: Set<string>;
  try {
    names = new Set(functionNames(parseSections(module)).values());
  } catch {
    return []; // not a module we can read: the instrumenter says so
  }
  const threads = ['__pthread_create', 'pthread_create', 'thrd_create'].find((n) => names.has(n));
  if (threads === undefined) return [];
  return [
    'the program starts threads (pthread_create/std::thread/thrd_create): wasm32-wasi has none, and every call ' +
      'fails (pthread_create returns ENOTSUP). Kafu runs one thread; do the work in the main thread.',
  ];
}
