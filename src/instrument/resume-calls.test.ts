import assert from 'node:assert/strict';
import { test } from 'node:test';
import binaryen from 'binaryen';
import { pickCopiesOnResume } from './resume-calls.js';

// Whether a table may hold normal paths in place of the functions (src/instrument/normal-path.ts) rests on the count
// pickCopiesOnResume returns: every call through the table in code that runs while rewinding must have been reached
// and rewritten. A call inside an expression kind the walk does not know (here memory.init) is not, and must not be
// counted; one inside vector lanes (which -O2 code has) is.
const WAT = `(module
  (type $ii (func (param i32) (result i32)))
  (global $state (mut i32) (i32.const 0))
  (memory 1)
  (table $t 2 funcref)
  (data $bytes "abcdefgh")
  (func $f (param $x i32) (param $v v128) (result i32)
    (local.set $x (call_indirect $t (type $ii) (local.get $x) (i32.const 0)))
    (local.set $v (i32x4.replace_lane 1 (local.get $v) (call_indirect $t (type $ii) (local.get $x) (i32.const 1))))
    (memory.init $bytes (i32.const 64) (i32.const 0) (call_indirect $t (type $ii) (local.get $x) (i32.const 1)))
    (i32x4.extract_lane 1 (local.get $v))))`;

test('the calls through a table that a resume copy makes while rewinding are counted where they are rewritten, and only there', () => {
  const mod = binaryen.parseText(WAT);
  mod.setFeatures(binaryen.Features.All);
  try {
    const fn = mod.getFunction('f');
    const info = binaryen.getFunctionInfo(fn);
    const picked = pickCopiesOnResume(binaryen, mod, info.body, 'state', new Map(), 3, new Map([['t', 't$rw']]));
    (binaryen as unknown as { Function: { setBody(f: number, e: number): void } }).Function.setBody(fn, picked.body);
    assert.deepEqual([...picked.indirect], [['t', 2]]);
    const text = mod.emitText();
    assert.equal(text.match(/call_indirect \$t\$rw /g)?.length, 2, 'both calls it reached go through the resume table while rewinding');
    assert.equal(text.match(/call_indirect \$t /g)?.length, 3, '(each also through the table itself otherwise, and the one in memory.init only so)');
  } finally {
    mod.dispose();
  }
});
