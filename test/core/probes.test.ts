// Programs written to break migration (test/programs/probe/), each run plainly and with a migration after every WASI
// call, at -O2 (the build with normal paths and resume copies): same stdout, stderr, files and exit code. They passed
// when written — they stay as the cases a change to the instrumentation must keep right: va_list and alloca/VLA
// frames, 128 KiB stack frames and struct returns, comparators called from qsort/bsearch, mutual recursion through
// pointers, exit(3) deep in the stack with atexit handlers, argv/environment/clocks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { observable, runForced, type ForcedOptions } from '../support/forced.js';

const T = { timeout: 240_000 };

const cases: [string, Partial<ForcedOptions>][] = [
  ['varargs.c', {}],
  ['bigstack.c', { cflags: ['-O2', '-Wl,-z,stack-size=1048576'] }],
  ['callbacks.c', {}],
  ['exit_deep.c', {}],
  ['env.c', { args: ['one', 'two'], env: { PROBE: 'hello' } }],
];
for (const [program, extra] of cases) {
  test(`${program}: a migration after every WASI call gives the plain run's results`, T, async () => {
    const r = await runForced([`test/programs/probe/${program}`], { every: 1, nodes: ['cloud', 'edge'], cflags: ['-O2'], ...extra });
    assert.deepEqual(observable(r.migrating), observable(r.plain));
    assert.ok(r.migrating.migrations >= 10, `${r.migrating.migrations} migrations`);
  });
}
