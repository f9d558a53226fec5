// Values a normal path keeps only for Asyncify's save.
//
// After each call that may suspend, a normal path (src/instrument/normal-path.ts) branches to one exit when the
// state is "unwinding", and that exit saves every local of the function into the frame. So every local is live across
// every such call — in a loop, values the loop no longer needs after the call (the operands of the call, an address
// computed before it) stay live across it only to be saved, and the engine must spill them to its stack frame and
// keep them there (V8 keeps no wasm value in a register across a call). Measured in bench:instrument's floating-point
// kernel: about 15 extra stores and reloads per iteration of its inner loop.
//
// What a frame must hold at a call is only what the code after the call reads: the resume copy restores the frame,
// skips forward to that call (Asyncify's rewind steers by the call index it saved, never by a local) and, once the
// call returns in the normal state, runs the same code as the normal path; if it unwinds again, it saves its locals
// again. So on the branch taken when unwinding, each local that the normal path does not read after the call before
// writing it (liveness on the normal path, where an "unwinding" branch needs no local: in that state the function
// only saves and returns) is set to zero: the saved frame has zeros where it had dead values, and the engine need not
// keep them across the call. The frame layout does not change. Not cleared: what the rewind reads when it runs the
// call again (`pinned` below). A function with an expression kind the walk does not know is left as it is.
type Binaryen = typeof import('binaryen').default;
type Module = InstanceType<Binaryen['Module']>;
type Info = Record<string, unknown> & { id: number };

const UNWINDING = 1;

export class UnsupportedExpression extends Error {}

/** Binaryen's description of `e`; `nop` and `unreachable` have no fields, and binaryen.js cannot describe them. */
export function expressionInfo(b: Binaryen, e: number): Info {
  const id = b.getExpressionId(e);
  if (id === b.NopId || id === b.UnreachableId) return { id };
  return b.getExpressionInfo(e) as unknown as Info;
}

/** `e` is `(i32.eq (global.get state) (i32.const 1))`: true exactly when the state is unwinding. */
export function isUnwindingTest(b: Binaryen, e: number, state: string): boolean {
  const i = expressionInfo(b, e);
  if (i.id !== b.BinaryId || i['op'] !== b.EqInt32) return false;
  const l = expressionInfo(b, i['left'] as number);
  const r = expressionInfo(b, i['right'] as number);
  return l.id === b.GlobalGetId && l['name'] === state && r.id === b.ConstId && r['value'] === UNWINDING;
}

/** Child expressions of `e` in evaluation order, by field (null: absent); throws for kinds not listed. */
function children(b: Binaryen, i: Info): (number | null)[] {
  const f = (...names: string[]) => names.map((n) => (i[n] as number) || null);
  switch (i.id) {
    case b.GlobalGetId: case b.ConstId: case b.LocalGetId: case b.NopId: case b.MemorySizeId: case b.UnreachableId:
      return [];
    case b.CallId: return i['operands'] as number[];
    case b.CallIndirectId: return [...(i['operands'] as number[]), i['target'] as number];
    case b.LocalSetId: case b.GlobalSetId: case b.UnaryId: case b.DropId: case b.ReturnId: return f('value');
    case b.LoadId: return f('ptr');
    case b.StoreId: return f('ptr', 'value');
    case b.BinaryId: return f('left', 'right');
    case b.SelectId: return f('ifTrue', 'ifFalse', 'condition');
    case b.MemoryGrowId: return f('delta');
    case b.MemoryFillId: return f('dest', 'value', 'size');
    case b.MemoryCopyId: return f('dest', 'source', 'size');
    default: throw new UnsupportedExpression();
  }
}

/** Zero of a local's type, or undefined for a type that is not a number (left as it is). */
function zero(b: Binaryen, mod: Module, t: number): number | undefined {
  if (t === b.i32) return mod.i32.const(0);
  if (t === b.i64) return (mod.i64.const as unknown as (v: bigint) => number)(0n); // binaryen 12x: one bigint
  if (t === b.f32) return mod.f32.const(0);
  if (t === b.f64) return mod.f64.const(0);
  return undefined;
}

/**
 * In function `name` (a normal path, its state reads folded, not yet optimized: its locals are still the resume
 * copy's), on each `br_if` taken when unwinding, set the locals dead after it to zero. Returns how many such branches
 * were changed.
 */
export function clearDeadOnUnwind(b: Binaryen, mod: Module, name: string, state: string): number {
  const fn = mod.getFunction(name);
  const info = b.getFunctionInfo(fn);
  const types = [...b.expandType(info.params), ...info.vars];
  const bit = (index: number) => 1n << BigInt(index);
  const labels = new Map<string, bigint>(); // label → locals live where a branch to it goes
  const sites = new Map<number, bigint>(); // unwinding br_if → locals live after it when not taken
  // Locals never cleared: a rewind runs the suspended call again, evaluating its operands from the restored frame.
  // What a callee receives does not matter (a resumed callee restores its own locals, parameters included) unless
  // it is an import (the host) — but the function a call_indirect selects does, and an operand more than a local.get
  // could trap on a cleared value (a division, a load at an offset).
  let pinned = 0n;
  const statements = new Map<number, (by: number) => void>(); // br_if → how to replace it, where its value is dropped or it has none
  const infos = new Map<number, Info>();
  const api = b as unknown as { Block: { setChildAt(e: number, k: number, c: number): void }; Drop: { setValue(e: number, v: number): void } };
  const setChildAt = (e: number, k: number, c: number) => api.Block.setChildAt(e, k, c);
  const setDropValue = (e: number, v: number) => api.Drop.setValue(e, v);
  const describe = (e: number) => {
    let i = infos.get(e);
    if (!i) infos.set(e, (i = expressionInfo(b, e)));
    return i;
  };

  /**
   * The value of an i32 condition the split left constant (`(i32.eqz (i32.const 0))`, `(i32.or (i32.const 1) x)` …
   * where a state read became 0), or undefined: the code is not optimized yet, and an arm that cannot run must not
   * make a local look live.
   */
  const constant = (e: number): number | undefined => {
    const i = describe(e);
    if (i.id === b.ConstId) return typeof i['value'] === 'number' ? i['value'] : undefined;
    if (i.id === b.UnaryId && i['op'] === b.EqZInt32) {
      const v = constant(i['value'] as number);
      return v === undefined ? undefined : v === 0 ? 1 : 0;
    }
    if (i.id !== b.BinaryId) return undefined;
    const l = constant(i['left'] as number);
    const r = constant(i['right'] as number);
    switch (i['op']) {
      case b.OrInt32: return (l !== undefined && l !== 0) || (r !== undefined && r !== 0) ? 1 : l === 0 && r === 0 ? 0 : undefined;
      case b.AndInt32: return l === 0 || r === 0 ? 0 : l !== undefined && r !== undefined ? l & r : undefined;
      case b.EqInt32: return l !== undefined && r !== undefined ? Number(l === r) : undefined;
      case b.NeInt32: return l !== undefined && r !== undefined ? Number(l !== r) : undefined;
      default: return undefined;
    }
  };

  /** Locals live before `e`, given those live after it. */
  const live = (e: number | null, out: bigint): bigint => {
    if (!e) return out;
    const i = describe(e);
    switch (i.id) {
      case b.LocalGetId:
        return out | bit(i['index'] as number);
      case b.LocalSetId:
        return live(i['value'] as number, out & ~bit(i['index'] as number));
      case b.UnreachableId:
        return 0n;
      case b.ReturnId:
        return live(i['value'] as number, 0n);
      case b.BlockId: {
        const name = i['name'] as string | null;
        if (name) labels.set(name, out);
        let cur = out;
        const kids = i['children'] as number[];
        for (let k = kids.length - 1; k >= 0; k--) {
          if (describe(kids[k]!).id === b.BreakId && b.getExpressionType(kids[k]!) === b.none) statements.set(kids[k]!, (by) => setChildAt(e, k, by));
          cur = live(kids[k]!, cur);
        }
        return cur;
      }
      case b.LoopId: {
        const name = i['name'] as string | null;
        if (!name) return live(i['body'] as number, out);
        let head = 0n;
        for (;;) {
          labels.set(name, head);
          const next = live(i['body'] as number, out) | head;
          if (next === head) return head;
          head = next;
        }
      }
      case b.IfId: {
        const c = constant(i['condition'] as number);
        const t = c === 0 ? 0n : live(i['ifTrue'] as number, out);
        const f = c !== undefined && c !== 0 ? 0n : live((i['ifFalse'] as number) || null, out);
        return live(i['condition'] as number, t | f);
      }
      case b.BreakId: {
        const target = labels.get(i['name'] as string) ?? 0n;
        const condition = (i['condition'] as number) || null;
        if (!condition) return live((i['value'] as number) || null, target);
        const unwinding = isUnwindingTest(b, condition, state);
        const c = constant(condition);
        if (c !== undefined && c !== 0) return live((i['value'] as number) || null, live(condition, target));
        if (c === 0) return live((i['value'] as number) || null, live(condition, out));
        if (unwinding) sites.set(e, (sites.get(e) ?? 0n) | out);
        return live((i['value'] as number) || null, live(condition, out | (unwinding ? 0n : target)));
      }
      case b.SwitchId: {
        let target = 0n;
        for (const n of [...(i['names'] as string[]), i['defaultName'] as string]) target |= labels.get(n) ?? 0n;
        return live((i['value'] as number) || null, live(i['condition'] as number, target));
      }
      case b.DropId: {
        const v = i['value'] as number;
        if (describe(v).id === b.BreakId) statements.set(v, (by) => setDropValue(e, by));
        return live(v, out);
      }
      case b.CallId:
      case b.CallIndirectId: {
        if (i['isReturn']) throw new UnsupportedExpression();
        // A rewind runs the call again: its operands are evaluated from the restored locals (see `pinned`).
        const imported = i.id === b.CallId && Boolean(b.getFunctionInfo(mod.getFunction(i['target'] as string)).module);
        const operands = i['operands'] as number[];
        for (const op of operands) if (imported || describe(op).id !== b.LocalGetId) pinned |= live(op, 0n);
        if (i.id === b.CallIndirectId) pinned |= live(i['target'] as number, 0n);
        let cur = out;
        if (i.id === b.CallIndirectId) cur = live(i['target'] as number, cur);
        for (let k = operands.length - 1; k >= 0; k--) cur = live(operands[k]!, cur);
        return cur;
      }
      default: {
        let cur = out;
        const kids = children(b, i);
        for (let k = kids.length - 1; k >= 0; k--) cur = live(kids[k] ?? null, cur);
        return cur;
      }
    }
  };
  try {
    live(info.body, 0n);
  } catch (e) {
    if (e instanceof UnsupportedExpression) return 0;
    throw e;
  }

  // `(br_if L K test)` becomes `(if test (then sets… (br L K)))` where it stands as a statement (dropped, or without a
  // value); in any other place the sets go into its condition, run only when it holds (the test reads nothing but
  // the state, so evaluating it there changes nothing): `br_if L K (if (result i32) test (then sets… 1) (else 0))`.
  const setCondition = (b as unknown as { Break: { setCondition(e: number, c: number): void } }).Break.setCondition;
  let changed = 0;
  for (const [site, after] of sites) {
    const i = describe(site);
    const test = i['condition'] as number;
    const sets: number[] = [];
    types.forEach((t, index) => {
      if ((after | pinned) & bit(index)) return;
      const z = zero(b, mod, t);
      if (z !== undefined) sets.push(mod.local.set(index, z));
    });
    if (sets.length === 0) continue;
    const value = (i['value'] as number) || null;
    const replace = statements.get(site);
    if (replace && (!value || describe(value).id === b.ConstId)) {
      const taken = mod.if(test, mod.block(null, [...sets, mod.br(i['name'] as string, undefined, value ? mod.copyExpression(value) : undefined)]));
      replace(value ? mod.block(null, [taken, value], b.getExpressionType(value)) : taken);
    } else {
      setCondition(site, mod.if(test, mod.block(null, [...sets, mod.i32.const(1)], b.i32), mod.i32.const(0)));
    }
    changed++;
  }
  return changed;
}
