// A fast path for running normally, beside Asyncify's code for resuming.
//
// Asyncify resumes a function by running it again from the top and skipping forward to the call it was suspended
// in: every stretch of code between calls is guarded by "if the state is normal", every `if` condition by "or we are
// rewinding", and the optimizer cannot drop those checks, since a call may change the state. In a hot loop that
// calls through a pointer that could reach a migration point, the checks cost as much as the loop (bench:instrument).
//
// Rewinding only ever begins at a function's entry. So each instrumented function F is split in two:
//   * F$kafu_rw: Asyncify's code as it is, for a resumed frame (it restores the frame, skips forward to the call it
//     was suspended in, and runs on to the end, with the checks);
//   * F$kafu_nm: a copy of the same code in which every read of the state that can only see "normal" reads the
//     constant 0 — so the guards fold away and the optimizer sees the plain function plus one "unwinding?" check
//     after each call that may suspend;
//   * F: `rewinding ? F$kafu_rw(params) : F$kafu_nm(params)`, for whatever does not choose a copy itself (exports,
//     the host). Normal paths call F$kafu_nm, resume copies choose, and the table holds F$kafu_nm (see
//     splitNormalPaths), so a hot call pays no entry check.
// Both copies are the same code (same locals, same call numbering, same frame layout), so a frame either one saved
// is resumed by F$kafu_rw. F adds no saved frame of its own when it hands over: its calls are not instrumented, and
// if F$kafu_rw unwinds again, F only returns. (It does add an engine frame; resume copies call each other directly
// while rewinding so that a resumed level takes one: src/instrument/resume-calls.ts.)
//
// Which reads see only "normal" is a data-flow fact over F's code (`mayUnwind` below), not a guess about the shape
// Asyncify or the optimizer gave it: F starts in the normal state (it hands over otherwise); only calls change the
// state; a call returns in the normal or the unwinding state (the host stops a rewind inside the suspending import
// before returning), and not even that for a direct call of a function Asyncify left uninstrumented; and past an
// `(i32.eq state 1)` test that failed, the state is normal again. A read the analysis cannot prove is left as it is,
// which is always correct — and an expression kind the walker does not know leaves the whole function unsplit.

import { parseCallGraph } from './suspension-graph.js';
import { clearDeadOnUnwind, expressionInfo, isUnwindingTest as isUnwinding } from './dead-on-unwind.js';
import { addResumeTables, everyTableHasResumeCopies, normalPathsInTables, pickCopiesOnResume, type Copies } from './resume-calls.js';

type Binaryen = typeof import('binaryen').default;
type Module = InstanceType<Binaryen['Module']>;
type Info = Record<string, unknown> & { id: number };

export const REWIND_SUFFIX = '$kafu_rw';
export const NORMAL_SUFFIX = '$kafu_nm';

const REWINDING = 2;

/** Setters binaryen.js has and its typings leave out, by expression kind and child field: (expr, child), or for a
 * list (expr, index, child). */
type Setter = (expr: number, a: number, b?: number) => void;

class Unsupported extends Error {}

/** The name of Asyncify's state global (the one `asyncify_get_state` returns). */
function stateGlobal(b: Binaryen, mod: Module): string {
  const getter = b.getExportInfo(mod.getExport('asyncify_get_state')).value;
  const body = b.getExpressionInfo(b.getFunctionInfo(mod.getFunction(getter)).body) as unknown as Info;
  if (body.id !== b.GlobalGetId || typeof body['name'] !== 'string') throw new Error('kafu internal error: unexpected asyncify_get_state');
  return body['name'];
}

/**
 * Reads of `state` in `body` that can only see the state the function starts in (normal; or rewinding, for a resume
 * copy), with a way to replace each. `mayChangeState(callee)`: whether a direct call of `callee` can change the state
 * (leave it unwinding, or stop a rewind). Below, "unwinding" reads "other than the state at entry"; a failed
 * "unwinding?" test tells that the state is normal, which is the entry state only of a normal path.
 */
function normalReads(
  b: Binaryen,
  body: number,
  state: string,
  mayChangeState: (callee: string) => boolean,
  entry: 'normal' | 'rewinding' = 'normal',
): { reads: { expr: number; replace: (by: number) => void }[]; calls: { expr: number; target: string }[] } {
  const KNOWN = new Set([b.GlobalGetId, b.ConstId, b.LocalGetId, b.NopId, b.MemorySizeId, b.UnreachableId, b.BlockId, b.LoopId, b.IfId, b.BreakId,
    b.SwitchId, b.ReturnId, b.CallId, b.CallIndirectId, b.LocalSetId, b.GlobalSetId, b.LoadId, b.StoreId, b.UnaryId, b.BinaryId, b.SelectId,
    b.DropId, b.MemoryGrowId, b.MemoryFillId, b.MemoryCopyId]);
  const K = b as unknown as Record<string, Record<string, Setter>>;
  const at = (kind: string, setter: string) => K[kind]![setter]!.bind(K[kind]);
  // Per read of the state: can it see "unwinding" on some visit (loops are visited until nothing changes)?
  const reads = new Map<number, { unsafe: boolean; replace: (by: number) => void }>();
  const calls = new Map<number, string>(); // direct calls, by expression
  const labels = new Map<string, boolean>(); // label → may a branch to it carry "unwinding"
  const info = (e: number): Info => {
    const id = b.getExpressionId(e);
    // Kinds the walker does not know stay opaque.
    return KNOWN.has(id) ? expressionInfo(b, e) : { id };
  };
  const isStateRead = (e: number) => {
    const i = info(e);
    return i.id === b.GlobalGetId && i['name'] === state;
  };
  /** Where the test is false, the state is not unwinding. */
  const isUnwindingTest = (e: number) => entry === 'normal' && isUnwinding(b, e, state);
  const branch = (name: string, m: boolean) => labels.set(name, (labels.get(name) ?? false) || m);

  /** Evaluate `e` entered with `m` (may the state be unwinding); returns `m` after it, or null if it never falls through. */
  const visit = (e: number, m: boolean, replace: (by: number) => void): boolean | null => {
    const i = info(e);
    const kid = (field: string, kind: string, mIn: boolean) => {
      const c = i[field] as number;
      return c ? visit(c, mIn, (by) => at(kind, `set${field[0]!.toUpperCase()}${field.slice(1)}`)(e, by)) : mIn;
    };
    const seq = (steps: [string, string][], mIn: boolean): boolean | null => {
      let cur: boolean | null = mIn;
      for (const [field, kind] of steps) {
        cur = kid(field, kind, cur ?? true); // code after something that never falls through: assume nothing
        if (cur === null) return null;
      }
      return cur;
    };
    const list = (field: string, kind: string, setter: string, mIn: boolean | null): boolean | null => {
      let cur = mIn;
      (i[field] as number[]).forEach((c, index) => {
        const r = visit(c, cur ?? true, (by) => at(kind, setter)(e, index, by));
        cur = cur === null ? null : r;
      });
      return cur;
    };
    switch (i.id) {
      case b.GlobalGetId: {
        if (i['name'] === state) {
          const r = reads.get(e);
          reads.set(e, { unsafe: (r?.unsafe ?? false) || m, replace });
        }
        return m;
      }
      case b.ConstId:
      case b.LocalGetId:
      case b.NopId:
      case b.MemorySizeId:
        return m;
      case b.UnreachableId:
        return null;
      case b.BlockId: {
        const name = i['name'] as string | null;
        if (name) labels.delete(name);
        const end = list('children', 'Block', 'setChildAt', m);
        const branched = name ? labels.get(name) : undefined;
        if (branched === undefined) return end;
        return end === null ? branched : end || branched;
      }
      case b.LoopId: {
        const name = i['name'] as string | null;
        let header = m;
        for (;;) {
          if (name) labels.delete(name);
          const out = kid('body', 'Loop', header);
          const back = name ? (labels.get(name) ?? false) : false;
          if (!back || header) return out;
          header = true; // a branch back may carry "unwinding": go round again with that
        }
      }
      case b.IfId: {
        const c = kid('condition', 'If', m);
        if (c === null) return null;
        const elseM = isUnwindingTest(i['condition'] as number) ? false : c;
        const t = kid('ifTrue', 'If', c);
        const f = i['ifFalse'] ? kid('ifFalse', 'If', elseM) : elseM;
        return t === null ? f : f === null ? t : t || f;
      }
      case b.BreakId: {
        const v = seq([['value', 'Break'], ['condition', 'Break']], m);
        if (v === null) return null;
        branch(i['name'] as string, v);
        if (!i['condition']) return null;
        return isUnwindingTest(i['condition'] as number) ? false : v;
      }
      case b.SwitchId: {
        const v = seq([['value', 'Switch'], ['condition', 'Switch']], m);
        if (v === null) return null;
        for (const n of [...(i['names'] as string[]), i['defaultName'] as string]) branch(n, v);
        return null;
      }
      case b.ReturnId:
        seq([['value', 'Return']], m);
        return null;
      case b.CallId: {
        const r = list('operands', 'Call', 'setOperandAt', m);
        if (r === null) return null;
        if (i['isReturn']) throw new Unsupported();
        calls.set(e, i['target'] as string);
        return r || mayChangeState(i['target'] as string);
      }
      case b.CallIndirectId: {
        const r = list('operands', 'CallIndirect', 'setOperandAt', m);
        if (r === null || kid('target', 'CallIndirect', r) === null) return null;
        if (i['isReturn']) throw new Unsupported();
        return true;
      }
      case b.LocalSetId:
        return seq([['value', 'LocalSet']], m);
      case b.GlobalSetId: {
        const r = seq([['value', 'GlobalSet']], m);
        return r === null ? null : r || i['name'] === state;
      }
      case b.LoadId:
        return seq([['ptr', 'Load']], m);
      case b.StoreId:
        return seq([['ptr', 'Store'], ['value', 'Store']], m);
      case b.UnaryId:
        return seq([['value', 'Unary']], m);
      case b.BinaryId:
        return seq([['left', 'Binary'], ['right', 'Binary']], m);
      case b.SelectId:
        return seq([['ifTrue', 'Select'], ['ifFalse', 'Select'], ['condition', 'Select']], m);
      case b.DropId:
        return seq([['value', 'Drop']], m);
      case b.MemoryGrowId:
        return seq([['delta', 'MemoryGrow']], m);
      case b.MemoryFillId:
        return seq([['dest', 'MemoryFill'], ['value', 'MemoryFill'], ['size', 'MemoryFill']], m);
      case b.MemoryCopyId:
        return seq([['dest', 'MemoryCopy'], ['source', 'MemoryCopy'], ['size', 'MemoryCopy']], m);
      default:
        throw new Unsupported();
    }
  };
  if (isStateRead(body)) return { reads: [], calls: [] }; // a body that is only a read of the state (asyncify_get_state) stays
  visit(body, false, () => {});
  return {
    reads: [...reads].filter(([, r]) => !r.unsafe).map(([expr, r]) => ({ expr, replace: r.replace })),
    calls: [...calls].map(([expr, target]) => ({ expr, target })),
  };
}

/**
 * Split each of `functions` (instrumented by Asyncify) as described above; `suspends` names the imports that may
 * start an unwind. Returns the normal paths, to be optimized (each F$kafu_nm, or F itself: below).
 *
 * A normal path runs only in the normal state: it is entered in it, and within it a call returns normal or
 * unwinding, after which only the exit runs. So it has no entry check of its own: it is F$kafu_nm, F becomes "if
 * rewinding, F$kafu_rw, else F$kafu_nm" (what exports, the host and any call kafu did not rewrite reach), and every
 * normal path calls F$kafu_nm directly. A rewind enters a function only from `_start` (called by the host), from a
 * resume copy or from code Asyncify instrumented and kafu did not split; in both, each direct call of a split
 * function picks the callee's copy itself and each call through a table goes through the table of resume copies
 * while rewinding (src/instrument/resume-calls.ts). So where every such `call_indirect` was rewritten, the table
 * holds F$kafu_nm in F's place and an indirect call pays no entry check either; where one was not (an expression
 * kind the walk does not know), that table keeps F. A module without tables of resume copies (no reference types)
 * keeps, for a function in a table, the entry check at the head of its normal path F (a trampoline there would add
 * a call to every indirect call).
 */
export function splitNormalPaths(b: Binaryen, mod: Module, functions: Iterable<string>, suspends: (qualifiedImport: string) => boolean): Split {
  const state = stateGlobal(b, mod);
  // Instrumented code, wherever the optimizer put it, reads the state; code that does not can never change it (and
  // never runs while rewinding). Per function, its calls through each table (by name).
  const instrumented = new Set<string>();
  const indirectCalls = new Map<string, Map<string, number>>();
  let current: string | undefined;
  const text = mod.emitText();
  for (const line of text.split('\n')) {
    const f = /^ \(func \$(\S+)/.exec(line);
    if (f) current = f[1];
    else if (line.startsWith(' (')) current = undefined;
    else if (current) {
      if (line.includes(`global.get $${state})`)) instrumented.add(current);
      for (const m of line.matchAll(/\(call_indirect \$(\S+)/g)) {
        const counts = indirectCalls.get(current) ?? new Map<string, number>();
        counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
        indirectCalls.set(current, counts);
      }
    }
  }
  // Functions an indirect call can reach (the table's elements, or made references).
  const inTable = parseCallGraph(text).escaping;
  const tablesSplit = everyTableHasResumeCopies(b, mod);
  const made = new Set<string>(); // the copies made below (each may change the state, as the function did)
  const mayChangeState = (callee: string) => {
    const f = b.getFunctionInfo(mod.getFunction(callee));
    return f.module ? suspends(`${f.module}.${f.base}`) : instrumented.has(callee) || made.has(callee) || callee.startsWith('asyncify_');
  };
  const setBody = (b as unknown as { Function: { setBody(f: number, e: number): void } }).Function.setBody;
  const setTarget = (b as unknown as { Call: { setTarget(c: number, t: string): void } }).Call.setTarget;
  const normalPaths: { name: string; calls: { expr: number; target: string }[] }[] = [];
  const direct = new Set<string>(); // functions whose normal path is F$kafu_nm
  const resumeCopies: { name: string; of: string }[] = [];
  const copies = new Map<string, Copies>(); // split function → its resume copy and the normal path its callers call
  for (const name of functions) {
    const fn = mod.getFunction(name);
    if (!fn) continue; // inlined away by the optimizer
    const info = b.getFunctionInfo(fn);
    let found: ReturnType<typeof normalReads>;
    try {
      found = normalReads(b, info.body, state, mayChangeState);
    } catch (e) {
      if (e instanceof Unsupported) continue;
      throw e;
    }
    if (found.reads.length === 0) continue;
    const rw = name + REWIND_SUFFIX;
    mod.addFunction(rw, info.params, info.results, info.vars, mod.copyExpression(info.body));
    resumeCopies.push({ name: rw, of: name });
    for (const r of found.reads) r.replace(mod.i32.const(0));
    const args = () => b.expandType(info.params).map((t, i) => mod.local.get(i, t));
    const rewinding = () => mod.i32.eq(mod.global.get(state, b.i32), mod.i32.const(REWINDING));
    if (inTable.has(name) && !tablesSplit) {
      const handOver = mod.call(rw, args(), info.results);
      const entry = mod.if(rewinding(), info.results === b.none ? mod.block(null, [handOver, mod.return()]) : mod.return(handOver));
      setBody(fn, mod.block(null, [entry, info.body], info.results));
      normalPaths.push({ name, calls: found.calls });
      copies.set(name, { rewind: rw, normal: name });
    } else {
      const nm = name + NORMAL_SUFFIX;
      mod.addFunction(nm, info.params, info.results, info.vars, info.body);
      mod.removeFunction(name);
      mod.addFunction(name, info.params, info.results, [], mod.if(rewinding(), mod.call(rw, args(), info.results), mod.call(nm, args(), info.results)));
      direct.add(name);
      normalPaths.push({ name: nm, calls: found.calls });
      copies.set(name, { rewind: rw, normal: nm });
    }
    made.add(rw).add(copies.get(name)!.normal);
  }
  // Once every split is known, the code that runs while rewinding — each resume copy, and what Asyncify instrumented
  // that was not split — picks the callees' copies (src/instrument/resume-calls.ts).
  const addVar = (b as unknown as { _BinaryenFunctionAddVar(f: number, t: number): number })._BinaryenFunctionAddVar;
  const resumeTables = addResumeTables(b, mod, copies);
  const unsplit = [...instrumented].filter((f) => !copies.has(f) && !f.startsWith('asyncify_')).map((f) => ({ name: f, of: f }));
  const callsThroughTableWhileRewinding = new Set<string>(); // tables some rewinding code still calls through
  for (const c of [...resumeCopies, ...unsplit]) {
    const fn = mod.getFunction(c.name);
    const info = b.getFunctionInfo(fn);
    const localCount = b.expandType(info.params).length + info.vars.length;
    const picked = pickCopiesOnResume(b, mod, info.body, state, copies, localCount, resumeTables);
    for (const t of picked.temps) addVar(fn, t);
    setBody(fn, picked.body);
    if (c.name !== c.of) foldRewindingReads(b, mod, fn, state, mayChangeState);
    for (const [table, n] of indirectCalls.get(c.of) ?? []) if ((picked.indirect.get(table) ?? 0) < n) callsThroughTableWhileRewinding.add(table);
  }
  normalPathsInTables(b, mod, copies, new Set([...resumeTables.keys()].filter((t) => !callsThroughTableWhileRewinding.has(t))));
  for (const { calls } of normalPaths) for (const c of calls) if (direct.has(c.target)) setTarget(c.expr, c.target + NORMAL_SUFFIX);
  return { normal: normalPaths.map((p) => p.name), resume: resumeCopies.map((c) => c.name) };
}

/**
 * A resume copy is entered only while rewinding (by F's check, a resume copy's pick or the table of resume copies),
 * and Asyncify's rewind skips everything up to the call it resumes: each read of the state before the first call
 * that may change it reads "rewinding", and with it folded the optimizer drops the code guarded by "normal?" there
 * (it could only run again after a call, i.e. in a loop, where the reads are not folded).
 */
function foldRewindingReads(b: Binaryen, mod: Module, fn: number, state: string, mayChangeState: (callee: string) => boolean): void {
  try {
    for (const r of normalReads(b, b.getFunctionInfo(fn).body, state, mayChangeState, 'rewinding').reads) r.replace(mod.i32.const(REWINDING));
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
  }
}

/** The functions splitNormalPaths made: the normal paths, and the resume copies. */
export interface Split {
  normal: string[];
  resume: string[];
}

/**
 * Optimize what splitNormalPaths made. Each normal path for speed, first clearing on the branches taken when
 * unwinding the locals that only Asyncify's save reads (src/instrument/dead-on-unwind.ts). That is decided before the
 * optimizer runs: a local is then still the same frame slot in the normal path and in the resume copy (the optimizer
 * renumbers and merges locals, and may keep a value the resume copy reads after the call in a local the normal path
 * does not). Each resume copy for size: it runs once per resume, then only to the end of its call (the frame layout
 * is in its loads and stores, which the optimizer keeps).
 */
export function optimizeNormalPaths(b: Binaryen, mod: Module, split: Split): void {
  const state = stateGlobal(b, mod);
  for (const name of split.normal) {
    clearDeadOnUnwind(b, mod, name, state);
    mod.optimizeFunction(name);
  }
  const shrink = b.getShrinkLevel();
  b.setShrinkLevel(2);
  try {
    for (const name of split.resume) mod.optimizeFunction(name);
  } finally {
    b.setShrinkLevel(shrink);
  }
}
