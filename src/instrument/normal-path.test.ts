import assert from 'node:assert/strict';
import { test } from 'node:test';
import binaryen from 'binaryen';
import { runAsyncify } from './instrument.js';
import { NORMAL_SUFFIX, REWIND_SUFFIX, optimizeNormalPaths, splitNormalPaths } from './normal-path.js';
import { functionsThatMaySuspend, parseCallGraph } from './suspension-graph.js';

// A loop that calls through a pointer that may hold the migrating function, with plain work between the calls, and
// a recursion through it: the two shapes where Asyncify's checks cost most, and where a wrong fold would show.
const WAT = `(module
  (type $ii (func (param i32) (result i32)))
  (import "kafu" "migration_point" (func $mp (param i32 i32)))
  (memory (export "memory") 1)
  (table 4 funcref)
  (elem (i32.const 0) $dest $pure)
  ;; It counts its calls in memory before its migration point: a rewind that ran its normal path instead of its
  ;; resume copy would count a call twice.
  (func $dest (param i32) (result i32)
    (i32.store (i32.const 65000) (i32.add (i32.load (i32.const 65000)) (i32.const 1)))
    (call $mp (i32.const 0) (i32.const 0))
    (i32.add (i32.add (local.get 0) (i32.const 1)) (i32.mul (i32.load (i32.const 65000)) (i32.const 1000))))
  (func $pure (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func $loop (export "loop") (param $n i32) (param $which i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (call_indirect (type $ii) (local.get $i) (local.get $which))))
        (local.set $acc (i32.xor (local.get $acc) (i32.shl (local.get $acc) (i32.const 1))))
        (if (i32.and (local.get $i) (i32.const 1))
          (then (local.set $acc (i32.add (local.get $acc) (call $dest (local.get $acc)))))
          (else (local.set $acc (i32.sub (local.get $acc) (i32.const 7)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  ;; x and y are computed before each call and dead after it (only the save at the exit would read them), and so is
  ;; $f, the function the second call selects (a rewind calls through it again); the sum, the index and a value
  ;; computed before the call and used after it are live across it.
  (type $ff (func (param f64 f64) (result f64)))
  (func $fdest (param f64 f64) (result f64) (call $mp (i32.const 1) (i32.const 0)) (f64.sub (local.get 0) (local.get 1)))
  (func $fpure (param f64 f64) (result f64) (f64.add (local.get 0) (local.get 1)))
  (elem (i32.const 2) $fdest $fpure)
  (func $floop (export "floop") (param $n i32) (param $which i32) (result f64)
    (local $i i32) (local $x f64) (local $y f64) (local $keep f64) (local $sum f64) (local $f i32)
    (i32.store (i32.const 0) (local.get $which))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x (f64.convert_i32_u (i32.mul (local.get $i) (i32.const 7))))
        (local.set $y (f64.convert_i32_u (i32.add (local.get $i) (i32.const 3))))
        (local.set $keep (f64.mul (local.get $x) (f64.const 0.5)))
        (local.set $sum (f64.add (local.get $sum)
          (f64.mul (local.get $keep) (call_indirect (type $ff) (local.get $x) (local.get $y) (local.get $which)))))
        (local.set $x (f64.convert_i32_u (local.get $i)))
        (local.set $f (i32.load (i32.const 0)))
        (local.set $sum (f64.add (local.get $sum) (call_indirect (type $ff) (local.get $x) (local.get $keep) (local.get $f))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))
  (func $rec (export "rec") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (call $dest (local.get $n)))
      (else (i32.add (call $rec (i32.sub (local.get $n) (i32.const 1))) (call $rec (i32.sub (local.get $n) (i32.const 2)))))))
  ;; Asyncify's code only (the normal-path walk does not know vector lanes), calling through the table: while
  ;; rewinding it must call through the table of resume copies too.
  (func $vec (export "vec") (param $n i32) (param $which i32) (result i32)
    (local $i i32) (local $acc i32) (local $v v128)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $v (i32x4.replace_lane 1 (local.get $v) (call_indirect (type $ii) (local.get $i) (local.get $which))))
        (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 3)) (i32x4.extract_lane 1 (local.get $v))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))
)`;

const MP = 'kafu.migration_point';

/** The instrumenter's pipeline on WAT: Asyncify on the functions that may suspend, optimize, split. */
function instrumentWat(split: boolean): { wasm: Uint8Array; text: string; split: string[] } {
  const mod = binaryen.parseText(WAT);
  // As clang's default target: with reference types, the resume copies' indirect calls get their own table.
  mod.setFeatures(mod.getFeatures() | binaryen.Features.ReferenceTypes | binaryen.Features.SIMD128 | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt);
  try {
    const onStack = functionsThatMaySuspend(parseCallGraph(mod.emitText()), (q) => q === MP);
    binaryen.setOptimizeLevel(2);
    runAsyncify(binaryen, mod, [MP], onStack);
    mod.optimize();
    const done = split ? splitNormalPaths(binaryen, mod, onStack, (q) => q === MP) : { normal: [], resume: [] };
    optimizeNormalPaths(binaryen, mod, done);
    assert.ok(mod.validate());
    return { wasm: mod.emitBinary(), text: mod.emitText(), split: done.normal };
  } finally {
    mod.dispose();
  }
}

interface Exports {
  memory: WebAssembly.Memory;
  loop(n: number, which: number): number;
  floop(n: number, which: number): number;
  rec(n: number): number;
  vec(n: number, which: number): number;
  asyncify_start_unwind(p: number): void;
  asyncify_stop_unwind(): void;
  asyncify_start_rewind(p: number): void;
  asyncify_stop_rewind(): void;
  asyncify_get_state(): number;
}

/**
 * Runs `call`, suspending (unwinding the whole stack, then rewinding it, as a migration does) at every
 * `suspendEvery`-th migration point; returns the result and how many times it suspended.
 */
function runSuspending(wasm: Uint8Array, call: (ex: Exports) => number, suspendEvery: number): { result: number; suspensions: number } {
  const DATA = 16;
  let ex!: Exports;
  let points = 0;
  let unwinding = false;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), {
    kafu: {
      migration_point: () => {
        if (ex.asyncify_get_state() === 2) {
          ex.asyncify_stop_rewind();
          return;
        }
        if (++points % suspendEvery !== 0) return;
        const view = new Int32Array(ex.memory.buffer);
        view[DATA / 4] = DATA + 8;
        view[DATA / 4 + 1] = 60000;
        unwinding = true;
        ex.asyncify_start_unwind(DATA);
      },
    },
  });
  ex = instance.exports as unknown as Exports;
  let suspensions = 0;
  for (;;) {
    const result = call(ex);
    if (!unwinding) return { result, suspensions };
    unwinding = false;
    suspensions++;
    ex.asyncify_stop_unwind();
    ex.asyncify_start_rewind(DATA);
  }
}

const funcText = (text: string, name: string) => {
  const start = text.indexOf(`(func $${name} `);
  const end = text.indexOf('\n (func ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
};

test('each instrumented function gets a normal path without the rewind checks, beside Asyncify\'s code', () => {
  const { text, split } = instrumentWat(true);
  // Every split function's normal path is F$kafu_nm (`vec` is not split: the walk does not know vector lanes).
  assert.deepEqual([...split].sort(), ['dest', 'fdest', 'floop', 'loop', 'rec'].map((f) => f + NORMAL_SUFFIX));
  const plain = instrumentWat(false).text;
  const reads = (t: string) => t.match(/global\.get \$__asyncify_state/g)?.length ?? 0;
  // Asyncify's loop checks the state before each stretch of code; the normal path only after each of its two calls
  // that may suspend, and `loop` itself once, to choose between the normal path and the resume copy.
  assert.ok(reads(funcText(plain, 'loop')) > 3, 'Asyncify\'s own code checks the state throughout');
  assert.equal(reads(funcText(text, `loop${NORMAL_SUFFIX}`)), 2);
  assert.equal(reads(funcText(text, 'loop')), 1);
  assert.ok(text.includes(`(func $loop${REWIND_SUFFIX} `));
  // The resume copy reads it more than Asyncify's code did: each direct call of `dest` and each call through the
  // table picks the callee's copy itself (src/instrument/resume-calls.ts).
  const loopRw = funcText(text, `loop${REWIND_SUFFIX}`);
  assert.match(loopRw, new RegExp(`call \\$dest\\${REWIND_SUFFIX}\\b`));
  assert.match(loopRw, new RegExp(`call \\$dest\\${NORMAL_SUFFIX}\\b`));
  // A resume copy is entered only while rewinding: the reads of the state before its first call are folded, and
  // with them the code before the loop, which only a run entered normally executes.
  const beforeLoop = (t: string) => t.slice(0, t.indexOf('(loop '));
  assert.ok(reads(beforeLoop(funcText(plain, 'floop'))) > 0);
  assert.equal(reads(beforeLoop(funcText(text, `floop${REWIND_SUFFIX}`))), 0);
  // The resume copy calls through the table of resume copies (dest there is dest's resume copy) while rewinding.
  assert.match(funcText(text, `loop${REWIND_SUFFIX}`), /call_indirect \$\S+\$kafu_rw /);
  assert.match(text, new RegExp(`\\(elem \\$\\S+\\$kafu_rw \\(table \\$\\S+\\$kafu_rw\\) .*\\$dest\\${REWIND_SUFFIX}\\b`));
  // `dest` and `fdest` are in the table, and the table holds their normal paths, which have no entry check (the
  // one read is after the call of the migration point): no code calls through it while rewinding — the resume
  // copies and `vec`, Asyncify's code that was not split, call through the table of resume copies then. `dest`
  // itself only picks a copy (for the host and calls kafu did not rewrite).
  assert.match(text, new RegExp(`\\(elem \\$0 \\(table \\$0\\) \\(i32\\.const 0\\) func \\$dest\\${NORMAL_SUFFIX} \\$pure\\)`));
  assert.match(text, new RegExp(`\\(elem \\$1 \\(table \\$0\\) \\(i32\\.const 2\\) func \\$fdest\\${NORMAL_SUFFIX} \\$fpure\\)`));
  assert.equal(reads(funcText(text, `dest${NORMAL_SUFFIX}`)), 1);
  assert.equal(reads(funcText(text, 'dest')), 1);
  const vec = funcText(text, 'vec');
  assert.match(vec, /call_indirect \$0\$kafu_rw /);
  assert.equal(vec.match(/call_indirect \$0 /g)?.length, 1);
  // The recursion's normal path calls itself directly; its resume copy calls rec's resume copy while rewinding and
  // the normal path otherwise, never `rec`'s check (one engine frame per resumed level, as in the normal path).
  assert.match(funcText(text, `rec${NORMAL_SUFFIX}`), new RegExp(`call \\$rec\\${NORMAL_SUFFIX}\\b`));
  const rw = funcText(text, `rec${REWIND_SUFFIX}`);
  assert.match(rw, new RegExp(`call \\$rec\\${REWIND_SUFFIX}\\b`));
  assert.match(rw, new RegExp(`call \\$rec\\${NORMAL_SUFFIX}\\b`));
  assert.doesNotMatch(rw, /call \$rec\s/);
});

test('a run suspended and resumed anywhere (in the normal path, then again in the resume copy) computes the same', () => {
  const { wasm } = instrumentWat(true);
  const cases: [string, (ex: Exports) => number][] = [
    ['loop through the table (migrating function)', (ex) => ex.loop(40, 0)],
    ['loop through the table (pure function)', (ex) => ex.loop(40, 1)],
    ['recursion', (ex) => ex.rec(12)],
    ['loop with values dead after its calls (migrating function)', (ex) => ex.floop(30, 2)],
    ['Asyncify\'s code alone, through the table (migrating function)', (ex) => ex.vec(20, 0)],
  ];
  for (const [what, call] of cases) {
    const expected = runSuspending(wasm, call, Number.MAX_SAFE_INTEGER);
    assert.equal(expected.suspensions, 0);
    for (const every of [1, 2, 3, 7]) {
      const r = runSuspending(wasm, call, every);
      assert.equal(r.result, expected.result, `${what}, suspended at every ${every}. point`);
      assert.ok(r.suspensions > 1, `${what}: suspended more than once (resumed frames unwind again)`);
    }
  }
  // And the same as Asyncify's code alone.
  const unsplit = instrumentWat(false).wasm;
  assert.equal(runSuspending(unsplit, (ex) => ex.loop(40, 0), 3).result, runSuspending(wasm, (ex) => ex.loop(40, 0), 3).result);
});

test('on a branch taken when unwinding, the normal path clears the locals dead after the call (not those live)', () => {
  const { text } = instrumentWat(true);
  const nm = funcText(text, `floop${NORMAL_SUFFIX}`);
  // Each call's unwinding branch sets the values only the save would read to zero before it goes to the exit.
  const branches = nm.split(/\(global\.get \$__asyncify_state\)/).slice(1);
  assert.equal(branches.length, 2);
  for (const b of branches) assert.match(b.slice(0, b.indexOf('(br ')), /f64\.const 0\b/, 'a dead f64 is cleared before the exit');
});
