// One engine frame per resumed level.
//
// A split function G (src/instrument/normal-path.ts) is entered through a check: "if rewinding, G$kafu_rw". A resume
// copy that called G while rewinding therefore put two engine frames on the stack per level (G's check, then
// G$kafu_rw), where the plain run and the normal path put one: a recursion that fits the engine stack in a plain run
// overflowed it when resumed after a migration (test/programs/probe/deep_resume.c).
//
// So in each resume copy, a direct call of a split function G chooses the copy itself, at the call, from the state:
// `rewinding ? G$kafu_rw(args) : <G's normal path>(args)`, the arguments evaluated once, before the test (into fresh
// locals where they are not plain local reads or constants) — which is exactly what G's check did, one frame lower.
// Past the rewind the normal path runs as before: the resume copies' remaining calls still run at normal-path speed.
// Calls through the table do the same with a second table (`addResumeTables`): the same entries at the same
// indices, each split function replaced by its resume copy; while rewinding, a resume copy's `call_indirect` goes
// through that table. (The program cannot change its table: instrument.ts refuses a module that does.) Calls inside
// an expression kind the walk does not know stay as they are (two frames a level, always correct).
//
// The same rewrite runs over the code Asyncify instrumented that kafu did not split. Then no code calls through the
// program's own table while rewinding, and that table can hold each split function's normal path itself, without
// the entry check (`normalPathsInTables`): normal-path.ts decides that per table, from the counts the walk returns.
import { expressionInfo } from './dead-on-unwind.js';

type Binaryen = typeof import('binaryen').default;
type Module = InstanceType<Binaryen['Module']>;
type Info = Record<string, unknown> & { id: number };
/** binaryen.js setters: (expr, child), or for a list (expr, index, child). */
type Setter = (expr: number, a: number, b?: number) => void;

const REWINDING = 2;

/** For a direct call target: its resume copy, and the function its callers' normal paths call. */
export interface Copies {
  rewind: string;
  normal: string;
}

/**
 * For each table the module defines whose entries include a function in `copies`, a table with the same entries
 * where each such function is its resume copy. Returns table → its resume table.
 */
export function addResumeTables(b: Binaryen, mod: Module, copies: Map<string, Copies>): Map<string, string> {
  const segments = elementSegments(b, mod);
  const tables = new Map<string, string>();
  for (const table of tablesWithResumeCopies(b, mod)) {
    const mine = segments.filter((s) => s.table === table.name);
    if (!mine.some((s) => s.data.some((f) => copies.has(f)))) continue;
    const rw = `${table.name}$kafu_rw`;
    const add = mod as unknown as {
      addTable(name: string, initial: number, maximum: number): number;
      addActiveElementSegment(table: string, name: string, data: string[], offset: number): number;
    };
    add.addTable(rw, table.initial, table.max ?? 0xffffffff);
    for (const s of mine) add.addActiveElementSegment(rw, `${s.name}$kafu_rw`, s.data.map((f) => copies.get(f)?.rewind ?? f), mod.copyExpression(s.offset));
    tables.set(table.name, rw);
  }
  return tables;
}

const elementSegments = (b: Binaryen, mod: Module) =>
  Array.from({ length: mod.getNumElementSegments() }, (_, i) => b.getElementSegmentInfo(mod.getElementSegmentByIndex(i)));

/**
 * The tables that can have a table of resume copies beside them: the module's own (an imported table's entries are
 * not the module's to know), filled only by active segments (what wasm-ld writes) whose offsets binaryen can copy —
 * and none at all without reference types (a second table needs them).
 */
function tablesWithResumeCopies(b: Binaryen, mod: Module): ReturnType<Binaryen['getTableInfo']>[] {
  if ((mod.getFeatures() & b.Features.ReferenceTypes) === 0) return [];
  const segments = elementSegments(b, mod);
  const out = [];
  for (let t = 0; t < mod.getNumTables(); t++) {
    const table = b.getTableInfo(mod.getTableByIndex(t));
    if (table.module || segments.some((s) => s.table === table.name && !s.offset)) continue;
    out.push(table);
  }
  return out;
}

/** Whether every table of the module that a split function could be in can have a table of resume copies. */
export function everyTableHasResumeCopies(b: Binaryen, mod: Module): boolean {
  return tablesWithResumeCopies(b, mod).length === mod.getNumTables();
}

/**
 * In `tables`, put each split function's normal path itself where the function was (its entry check, which only a
 * rewind could pass, left out): for tables through which no code calls while rewinding (every such call goes
 * through the table of resume copies). The segments are written again in their order (a later one may overwrite an
 * earlier one's entries).
 */
export function normalPathsInTables(b: Binaryen, mod: Module, copies: Map<string, Copies>, tables: Set<string>): void {
  const mine = elementSegments(b, mod).filter((s) => tables.has(s.table));
  const add = mod as unknown as { addActiveElementSegment(table: string, name: string, data: string[], offset: number): number };
  const offsets = mine.map((s) => mod.copyExpression(s.offset));
  for (const s of mine) mod.removeElementSegment(s.name);
  mine.forEach((s, i) => add.addActiveElementSegment(s.table, s.name, s.data.map((f) => copies.get(f)?.normal ?? f), offsets[i]!));
}

/**
 * Rewrite, in `body` (a resume copy whose function has `localCount` locals), each direct call of a function in
 * `copies` and each call through a table in `resumeTables` as above. Returns the new body, the types of the locals
 * it added (to be appended to the function's) and, per table, how many `call_indirect`s the walk reached (each
 * rewritten, or never made: an operand that does not return). Fewer than the function has: the walk met an
 * expression kind it does not know, and the calls inside it still go through the table itself while rewinding.
 */
export function pickCopiesOnResume(
  b: Binaryen,
  mod: Module,
  body: number,
  state: string,
  copies: Map<string, Copies>,
  localCount: number,
  resumeTables: Map<string, string> = new Map(),
): { body: number; temps: number[]; indirect: Map<string, number> } {
  const K = b as unknown as Record<string, Record<string, Setter>>;
  const setter = (kind: string, field: string): Setter => K[kind]![`set${field[0]!.toUpperCase()}${field.slice(1)}`]!.bind(K[kind]);
  // Child fields by expression kind, in evaluation order: [binaryen.js class, field, is a list].
  const FIELDS = new Map<number, [string, string, boolean][]>([
    [b.GlobalGetId, []], [b.ConstId, []], [b.LocalGetId, []], [b.NopId, []], [b.MemorySizeId, []], [b.UnreachableId, []],
    [b.BlockId, [['Block', 'children', true]]],
    [b.LoopId, [['Loop', 'body', false]]],
    [b.IfId, [['If', 'condition', false], ['If', 'ifTrue', false], ['If', 'ifFalse', false]]],
    [b.BreakId, [['Break', 'value', false], ['Break', 'condition', false]]],
    [b.SwitchId, [['Switch', 'value', false], ['Switch', 'condition', false]]],
    [b.ReturnId, [['Return', 'value', false]]],
    [b.CallId, [['Call', 'operands', true]]],
    [b.CallIndirectId, [['CallIndirect', 'operands', true], ['CallIndirect', 'target', false]]],
    [b.LocalSetId, [['LocalSet', 'value', false]]],
    [b.GlobalSetId, [['GlobalSet', 'value', false]]],
    [b.LoadId, [['Load', 'ptr', false]]],
    [b.StoreId, [['Store', 'ptr', false], ['Store', 'value', false]]],
    [b.UnaryId, [['Unary', 'value', false]]],
    [b.BinaryId, [['Binary', 'left', false], ['Binary', 'right', false]]],
    [b.SelectId, [['Select', 'ifTrue', false], ['Select', 'ifFalse', false], ['Select', 'condition', false]]],
    [b.DropId, [['Drop', 'value', false]]],
    [b.MemoryGrowId, [['MemoryGrow', 'delta', false]]],
    [b.MemoryFillId, [['MemoryFill', 'dest', false], ['MemoryFill', 'value', false], ['MemoryFill', 'size', false]]],
    [b.MemoryCopyId, [['MemoryCopy', 'dest', false], ['MemoryCopy', 'source', false], ['MemoryCopy', 'size', false]]],
    // (vectorized loops: -O2 code has them)
    [b.SIMDExtractId, [['SIMDExtract', 'vec', false]]],
    [b.SIMDReplaceId, [['SIMDReplace', 'vec', false], ['SIMDReplace', 'value', false]]],
    [b.SIMDShuffleId, [['SIMDShuffle', 'left', false], ['SIMDShuffle', 'right', false]]],
    [b.SIMDTernaryId, [['SIMDTernary', 'a', false], ['SIMDTernary', 'b', false], ['SIMDTernary', 'c', false]]],
    [b.SIMDShiftId, [['SIMDShift', 'vec', false], ['SIMDShift', 'shift', false]]],
    [b.SIMDLoadId, [['SIMDLoad', 'ptr', false]]],
    [b.SIMDLoadStoreLaneId, [['SIMDLoadStoreLane', 'ptr', false], ['SIMDLoadStoreLane', 'vec', false]]],
  ]);
  const temps: number[] = [];
  const isPlain = (e: number) => {
    const id = b.getExpressionId(e);
    return id === b.LocalGetId || id === b.ConstId;
  };
  /** `call(a, b)` with `operands` evaluated once, in order: `rewinding ? rewind(a, b) : normal(a, b)`. */
  const pick = (operands: number[], type: number, rewind: (args: number[]) => number, normal: (args: number[]) => number): number => {
    const sets: number[] = [];
    let reads: (() => number)[];
    if (operands.every(isPlain)) {
      reads = operands.map((o) => () => mod.copyExpression(o));
    } else {
      reads = operands.map((o) => {
        const t = b.getExpressionType(o);
        const index = localCount + temps.length;
        temps.push(t);
        sets.push(mod.local.set(index, o));
        return () => mod.local.get(index, t);
      });
    }
    const args = () => reads.map((r) => r());
    const rewinding = mod.i32.eq(mod.global.get(state, b.i32), mod.i32.const(REWINDING));
    const choice = mod.if(rewinding, rewind(args()), normal(args()));
    return sets.length === 0 ? choice : mod.block(null, [...sets, choice], type);
  };
  const pickDirect = (i: Info): number => {
    const c = copies.get(i['target'] as string)!;
    const type = i['type'] as number;
    return pick(i['operands'] as number[], type, (a) => mod.call(c.rewind, a, type), (a) => mod.call(c.normal, a, type));
  };
  const pickIndirect = (i: Info, rwTable: string): number => {
    const [params, results] = [i['params'] as number, i['results'] as number];
    const n = (i['operands'] as number[]).length;
    // The target is evaluated last, as call_indirect does: one more operand.
    const via = (table: string) => (a: number[]) => mod.call_indirect(table, a[n]!, a.slice(0, n), params, results);
    return pick([...(i['operands'] as number[]), i['target'] as number], i['type'] as number, via(rwTable), via(i['table'] as string));
  };
  const walk = (e: number, replace: (by: number) => void): void => {
    const i = expressionInfo(b, e);
    const fields = FIELDS.get(i.id);
    if (!fields) return; // (its calls keep G's check)
    for (const [kind, field, isList] of fields) {
      if (isList) {
        (i[field] as number[]).forEach((c, index) => walk(c, (by) => setter(kind, field === 'children' ? 'childAt' : 'operandAt')(e, index, by)));
      } else if (i[field]) {
        walk(i[field] as number, (by) => setter(kind, field)(e, by));
      }
    }
    if (i['isReturn']) return;
    const operands = i.id === b.CallIndirectId ? [...(i['operands'] as number[]), i['target'] as number] : (i['operands'] as number[] | undefined);
    if (i.id === b.CallIndirectId) indirect.set(i['table'] as string, (indirect.get(i['table'] as string) ?? 0) + 1);
    if (operands?.some((o) => b.getExpressionType(o) === b.unreachable)) return; // (never made)
    if (i.id === b.CallId && copies.has(i['target'] as string)) replace(pickDirect(i));
    const rwTable = i.id === b.CallIndirectId ? resumeTables.get(i['table'] as string) : undefined;
    if (rwTable !== undefined) replace(pickIndirect(i, rwTable));
  };
  const indirect = new Map<string, number>();
  let root = body;
  walk(body, (by) => (root = by));
  return { body: root, temps, indirect };
}
