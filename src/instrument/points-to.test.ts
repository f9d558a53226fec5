import assert from 'node:assert/strict';
import { test } from 'node:test';
import binaryen from 'binaryen';
import { indirectTargets } from './points-to.js';
import { functionsThatMaySuspend, parseCallGraph } from './suspension-graph.js';

// Modules as binaryen prints them (names stripped, so functions are numbered as in the instrumenter). A marked
// constant is MARK + table index, as src/instrument/function-addresses.ts writes them.
const MARK = 0x3000_0000;
const addr = (tableIndex: number) => MARK + tableIndex;

/**
 * The shape of musl's qsort and stdio: `dest` (the migrating comparator, table index 1) is passed by `sort`
 * through `wrapper` (index 2, the type of a FILE's `write`) to `sort_r`, which calls it; `writer` calls a `write`
 * it loads from a FILE in memory, whose data segment holds `stdout_write` (index 3). `tail` replaces the body of
 * $tail.
 */
function module(tail = '', imports = '') {
  return `(module
  (type $cmp (func (param i32 i32) (result i32)))
  (type $w (func (param i32 i32 i32) (result i32)))
  (import "kafu" "migration_point" (func $mp (param i32 i32)))
  ${imports}
  (memory 1)
  (table 4 funcref)
  (elem (i32.const 1) $dest $wrapper $stdout_write)
  (func $dest (param i32 i32) (result i32) (call $mp (i32.const 0) (i32.const 0)) (local.get 0))
  (func $wrapper (param i32 i32 i32) (result i32) (call_indirect (type $cmp) (local.get 0) (local.get 1) (local.get 2)))
  (func $stdout_write (param i32 i32 i32) (result i32) (local.get 2))
  (func $sort_r (param $cmp i32) (param $arg i32) (result i32)
    (call_indirect (type $w) (i32.const 1) (i32.const 2) (local.get $arg) (local.get $cmp)))
  (func $sort (param $cmp i32) (result i32) (call $sort_r (i32.const ${addr(2)}) (local.get $cmp)))
  (func $writer (param $file i32) (result i32)
    (call_indirect (type $w) (local.get $file) (i32.const 0) (i32.const 1) (i32.load offset=8 (local.get $file))))
  (func $tail (param $p i32) (result i32) ${tail} (i32.const 0))
  (func $main (export "_start")
    (drop (call $sort (i32.const ${addr(1)})))
    (drop (call $writer (i32.const 64)))
    (drop (call $tail (i32.const 128))))
)`;
}

/** What may suspend, indirect calls resolved by the points-to analysis (by binaryen's numbering of functions). */
function maySuspend(wat: string, data: number[] = [3], count?: number) {
  const mod = binaryen.parseText(wat);
  try {
    // Print without names, as the instrumenter reads modules: the analysis and the call graph see the same names.
    const bytes = mod.emitBinary();
    const plain = binaryen.readBinary(bytes);
    try {
      const text = plain.emitText();
      const marks = [...text.matchAll(/\(i32\.const (\d+)\)/g)].filter((m) => Number(m[1]) >= MARK).length;
      const targets = indirectTargets(text, { marker: MARK, count: count ?? marks, inData: new Set(data) }, (q) => q.startsWith('wasi_snapshot_preview1.') || q.startsWith('kafu.'));
      if (!targets) return undefined;
      const graph = parseCallGraph(text);
      for (const [name, f] of graph.functions) {
        const t = targets.byFunction.get(name);
        if (t) f.indirectCallees = t;
      }
      const may = functionsThatMaySuspend(graph, (q) => q === 'kafu.migration_point');
      // binaryen numbers defined functions 0..; name them as in the module text above.
      const names = ['dest', 'wrapper', 'stdout_write', 'sort_r', 'sort', 'writer', 'tail', 'main'];
      return [...may].map((n) => names[Number(n)] ?? n).sort();
    } finally {
      plain.dispose();
    }
  } finally {
    mod.dispose();
  }
}

const CALL_PATH = ['dest', 'main', 'sort', 'sort_r', 'wrapper'];

test('a comparator passed as an argument reaches only the call it is passed to, not every call of its type', () => {
  // By type alone, `writer`'s call of a (i32,i32,i32)->i32 could reach `wrapper`, and so the migration point.
  assert.deepEqual(maySuspend(module()), CALL_PATH);
});

test('the address stored into memory anywhere reaches every load: the FILE call site stays instrumented', () => {
  // `tail` stores `wrapper`'s address into memory (a FILE whose write it is): `writer` may now call it.
  assert.deepEqual(maySuspend(module(`(i32.store offset=8 (local.get $p) (i32.const ${addr(2)}))`)), [...CALL_PATH, 'writer'].sort());
  // The same, the address carried through a local, a global-free arithmetic and a select first.
  const viaLocal = `(local $q i32) (local.set $q (i32.add (i32.const ${addr(2)}) (i32.const 0)))
    (i32.store offset=8 (local.get $p) (select (local.get $q) (i32.const 0) (local.get $p)))`;
  assert.deepEqual(maySuspend(module(viaLocal)), [...CALL_PATH, 'writer'].sort());
});

test('an address in a data segment, or handed back by a function, counts as well', () => {
  // `wrapper` in a static FILE structure (a table index in data).
  assert.deepEqual(maySuspend(module(), [3, 2]), [...CALL_PATH, 'writer'].sort());
  // `sort_r`'s parameter (which holds `wrapper`) is stored by a callee that got it as an argument.
  const wat = module().replace(
    '(call_indirect (type $w) (i32.const 1) (i32.const 2) (local.get $arg) (local.get $cmp)))',
    '(i32.store offset=8 (i32.const 64) (local.get $cmp)) (call_indirect (type $w) (i32.const 1) (i32.const 2) (local.get $arg) (local.get $cmp)))',
  );
  assert.deepEqual(maySuspend(wat), [...CALL_PATH, 'writer'].sort());
});

test('without the comparator in the program at all, nothing indirect may suspend', () => {
  const wat = module().replace(`(call $sort (i32.const ${addr(1)}))`, '(call $sort (i32.const 0))');
  assert.deepEqual(maySuspend(wat), ['dest']);
});

test('what the analysis cannot follow: it gives up (the instrumenter then resolves by type)', () => {
  // A host module it does not know may hand out addresses.
  assert.equal(maySuspend(module('', '(import "env" "get_callback" (func $cb (result i32)))')), undefined);
  // A constant of the program's own in the marker range: the marks cannot be told apart from it.
  assert.equal(maySuspend(module(`(drop (i32.const ${addr(3)}))`), [3], 2), undefined);
  // A table index in data naming no table entry.
  assert.equal(maySuspend(module(), [9]), undefined);
});
