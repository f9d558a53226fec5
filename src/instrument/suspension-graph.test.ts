import assert from 'node:assert/strict';
import { test } from 'node:test';
import binaryen from 'binaryen';
import { functionsThatMaySuspend, parseCallGraph } from './suspension-graph.js';

// Real binaryen text: the parser must follow binaryen's printing, so the module goes through binaryen.
function graphOf(wat: string) {
  const mod = binaryen.parseText(wat);
  try {
    return parseCallGraph(mod.emitText());
  } finally {
    mod.dispose();
  }
}

const WAT = `(module
  (type $ii (func (param i32) (result i32)))
  (type $v (func))
  (import "kafu" "migration_point" (func $mp (param i32 i32)))
  (table 4 funcref)
  (elem (i32.const 1) $dest $pure)
  (func $dest (param i32) (result i32) (call $mp (i32.const 0) (i32.const 0)) (local.get 0))
  (func $pure (param i32) (result i32) (local.get 0))
  (func $other (result f64) (f64.const 1))
  (func $caller_direct (drop (call $dest (i32.const 1))))
  (func $caller_indirect_ii (drop (call_indirect (type $ii) (i32.const 5) (i32.const 1))))
  (func $caller_indirect_v (call_indirect (type $v) (i32.const 2)))
  (func $top (call $caller_indirect_ii))
  (func $unrelated (drop (call $pure (i32.const 1))))
  (func $_start (call $top) (call $unrelated) (call $caller_indirect_v))
  (export "_start" (func $_start))
)`;

test('only functions that can reach the migration import, indirect calls resolved by signature', () => {
  const g = graphOf(WAT);
  const may = functionsThatMaySuspend(g, (q) => q === 'kafu.migration_point');
  assert.deepEqual([...may].sort(), ['_start', 'caller_direct', 'caller_indirect_ii', 'dest', 'top'].sort());
  assert.equal(g.mutatesTable, false);
});

test('without the suspending function in the table, its signature does not make indirect callers suspend', () => {
  const g = graphOf(WAT.replace('(elem (i32.const 1) $dest $pure)', '(elem (i32.const 1) $pure)'));
  const may = functionsThatMaySuspend(g, (q) => q === 'kafu.migration_point');
  assert.deepEqual([...may].sort(), ['caller_direct', 'dest']);
});

test('table mutation is detected', () => {
  const g = graphOf(WAT.replace('(func $pure (param i32) (result i32) (local.get 0))', '(func $pure (param i32) (result i32) (table.set (i32.const 0) (ref.null func)) (local.get 0))'));
  assert.equal(g.mutatesTable, true);
});
