// Which functions each indirect call can reach: a points-to analysis over function addresses.
//
// Resolving `call_indirect` by type alone makes every call of a type a possible call of every address-taken
// function of that type. In C that is far too coarse: musl's `qsort` calls the comparator through
// `wrapper_cmp (i32,i32,i32)->i32`, the type of a FILE's `write`, so with a migrating comparator every `printf`
// function would count as one that may suspend (and be instrumented, and be slower and bigger).
//
// Here a function address is followed from where it is made — an `i32.const` that is a table index, or four bytes
// of a data segment, as a second link with the table placed elsewhere shows (src/instrument/function-addresses.ts)
// — through every place it can flow: locals (parameters included), globals, function results, call arguments, and linear memory. The analysis is
// inclusion-based (Andersen), flow- and context-insensitive, and conservative:
//   * linear memory is one cell: a value stored anywhere may be loaded anywhere (so a pointer put in any
//     structure reaches every load; what never goes to memory — wrapper_cmp, passed as an argument — does not);
//   * any arithmetic, comparison, `select`, block or branch value carries every address its operands carry;
//   * what the analysis cannot follow (`table.get`, an exception's payload, a call to a host function of a module
//     it does not know) is every function in the table, and a construct it does not model at all (`call_ref`,
//     `ref.func`, an imported table, a table other than one active segment) makes it give up: the caller then
//     resolves indirect calls by type, as before.
// Known host modules (WASI, wasi-nn, Kafu's own) never return a function address, and the host passes none to
// an export (it calls `_start`), so neither adds any.
//
// Input: binaryen's text of a module without names, whose marked constants are `marker + table index`.

import { MARKED_RANGE } from './function-addresses.js';

export interface IndirectTargets {
  /** Per defined function: every function its `call_indirect`s can reach (defined or imported, by name). */
  byFunction: Map<string, Set<string>>;
}

type SExpr = string | SExpr[];

class GiveUp extends Error {}

/** Parse one s-expression (a function as binaryen prints it). */
function parseSExpr(text: string): SExpr[] {
  const stack: SExpr[][] = [[]];
  const re = /\(|\)|"(?:[^"\\]|\\.)*"|[^\s()"]+/g;
  for (const m of text.matchAll(re)) {
    const t = m[0];
    if (t === '(') {
      const list: SExpr[] = [];
      stack[stack.length - 1]!.push(list);
      stack.push(list);
    } else if (t === ')') {
      if (stack.length === 1) throw new GiveUp();
      stack.pop();
    } else stack[stack.length - 1]!.push(t);
  }
  const top = stack[0]![0];
  if (stack.length !== 1 || !Array.isArray(top)) throw new GiveUp();
  return top;
}

const VALUE_TYPE = /^(i32|i64|f32|f64|v128|funcref|externref)$/;
/** "(param $0 i32) (result i32)" lists → "i32->i32" (the same notation as src/instrument/suspension-graph.ts). */
function signature(items: SExpr[]): string {
  const params: string[] = [];
  const results: string[] = [];
  for (const it of items) {
    if (!Array.isArray(it) || (it[0] !== 'param' && it[0] !== 'result')) continue;
    const types = it.slice(1).filter((t): t is string => typeof t === 'string' && VALUE_TYPE.test(t));
    (it[0] === 'param' ? params : results).push(...types);
  }
  return `${params.join(',')}->${results.join(',')}`;
}

/** Sources of a value: constants (table indices) and nodes whose sets flow in. */
interface Src {
  consts: number[];
  nodes: number[];
}
const EMPTY: Src = { consts: [], nodes: [] };
const union = (parts: Src[]): Src => ({ consts: parts.flatMap((p) => p.consts), nodes: parts.flatMap((p) => p.nodes) });

interface Site {
  signature: string;
  args: number[];
  result: number;
  caller: string;
  /** The table indices already handled, a bitset by 32-bit words. */
  seen: number[];
}

/**
 * The inclusion-constraint solver: nodes hold sets of table indices; edges say "everything in a is in b". A set is
 * a bitset over the table (allocated when first non-empty), and a changed node passes its whole set on by word-wise
 * OR: a C++ program has hundreds of addresses flowing through memory to most of its nodes, where a set of numbers
 * passed on element by element took over a minute.
 */
class Solver {
  private readonly ids = new Map<string, number>();
  private readonly sets: (Uint32Array | undefined)[] = [];
  private readonly succ: Set<number>[] = [];
  private readonly sitesAt: Site[][] = [];
  private readonly work: number[] = [];
  private readonly queued: boolean[] = [];
  private readonly words: number;
  constructor(
    tableSize: number,
    private readonly onSite: (site: Site, index: number) => void,
  ) {
    this.words = Math.max(1, Math.ceil(tableSize / 32));
  }

  node(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.sets.length;
      this.ids.set(key, id);
      this.sets.push(undefined);
      this.succ.push(new Set());
      this.sitesAt.push([]);
      this.queued.push(false);
    }
    return id;
  }
  private setOf(n: number): Uint32Array {
    return (this.sets[n] ??= new Uint32Array(this.words));
  }
  private changed(n: number): void {
    if (this.queued[n]) return;
    this.queued[n] = true;
    this.work.push(n);
  }
  private add(to: number, index: number): void {
    const s = this.setOf(to);
    const bit = 1 << (index & 31);
    if ((s[index >>> 5]! & bit) !== 0) return;
    s[index >>> 5]! |= bit;
    this.changed(to);
  }
  private orInto(to: number, from: number): void {
    const f = this.sets[from];
    if (!f) return;
    const s = this.setOf(to);
    let grew = false;
    for (let w = 0; w < f.length; w++) {
      const v = (s[w]! | f[w]!) >>> 0; // (| gives a signed number, the array holds unsigned ones)
      if (v !== s[w]) {
        s[w] = v;
        grew = true;
      }
    }
    if (grew) this.changed(to);
  }
  edge(from: number, to: number): void {
    if (from === to || this.succ[from]!.has(to)) return;
    this.succ[from]!.add(to);
    this.orInto(to, from);
  }
  flow(src: Src, to: number): void {
    for (const c of src.consts) this.add(to, c);
    for (const n of src.nodes) this.edge(n, to);
  }
  watch(target: number, site: Site): void {
    this.sitesAt[target]!.push(site);
  }
  solve(): void {
    while (this.work.length > 0) {
      const n = this.work.pop()!;
      this.queued[n] = false;
      for (const s of this.succ[n]!) this.orInto(s, n);
      const set = this.sets[n]!;
      for (const site of this.sitesAt[n]!) {
        for (let w = 0; w < set.length; w++) {
          for (let fresh = set[w]! & ~(site.seen[w] ?? 0); fresh !== 0; fresh &= fresh - 1) {
            const bit = fresh & -fresh;
            site.seen[w] = (site.seen[w] ?? 0) | bit;
            this.onSite(site, w * 32 + 31 - Math.clz32(bit));
          }
        }
      }
    }
  }
}

/**
 * The indirect-call targets of every function of `text` (see above), or undefined where the analysis gives up.
 * `knownHost(qualifiedImport)`: an import of a host module known to return no function address.
 */
export function indirectTargets(
  text: string,
  marked: { marker: number; count: number; inData: Set<number> },
  knownHost: (qualifiedImport: string) => boolean,
): IndirectTargets | undefined {
  try {
    return analyse(text, marked, knownHost);
  } catch (e) {
    if (e instanceof GiveUp) return undefined;
    throw e;
  }
}

function analyse(text: string, marked: { marker: number; count: number; inData: Set<number> }, knownHost: (q: string) => boolean): IndirectTargets {
  const types = new Map<string, string>();
  const imports = new Map<string, { qualified: string; signature: string }>();
  const functions = new Map<string, { signature: string; params: string[]; tree: SExpr[] }>();
  const table = new Map<number, string>();
  let elemSegments = 0;
  let current: string[] | undefined;
  const finish = () => {
    if (!current) return;
    const fn = parseSExpr(current.join('\n'));
    const name = fn[1] as string;
    const params = fn.filter((x): x is SExpr[] => Array.isArray(x) && x[0] === 'param').map((p) => {
      // One named parameter per list, as binaryen prints them: a list of several would hide which is which.
      if (p.length !== 3 || typeof p[1] !== 'string' || !p[1].startsWith('$')) throw new GiveUp();
      return p[1];
    });
    functions.set(name.slice(1), { signature: signature(fn), params, tree: fn });
    current = undefined;
  };
  for (const line of text.split('\n')) {
    if (current && (line.startsWith('  ') || line === ' )')) {
      current.push(line);
      continue;
    }
    finish();
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^ \(type \$(\S+) (\(func.*)\)$/))) types.set(m[1]!, signature(parseSExpr(m[2]!)));
    else if ((m = line.match(/^ \(import "([^"]*)" "([^"]*)" (\(func \$(\S+).*\))\)$/))) {
      imports.set(m[4]!, { qualified: `${m[1]}.${m[2]}`, signature: signature(parseSExpr(m[3]!)) });
    } else if (/^ \(import "[^"]*" "[^"]*" \(table/.test(line)) throw new GiveUp();
    else if (line.startsWith(' (func ')) current = [line];
    else if (line.startsWith(' (elem')) {
      const e = parseSExpr(line);
      const offset = e.find((x): x is SExpr[] => Array.isArray(x));
      if (++elemSegments > 1 || !offset || offset[0] !== 'i32.const' || e.includes('declare')) throw new GiveUp();
      const start = Number(offset[1]);
      e.slice(e.indexOf(offset) + 1).forEach((f, i) => {
        if (typeof f !== 'string' || !f.startsWith('$')) throw new GiveUp();
        table.set(start + i, f.slice(1));
      });
    }
  }
  finish();
  for (const i of marked.inData) if (!table.has(i)) throw new GiveUp();
  // A host module the analysis does not know may hand out addresses, or call back with them.
  if ([...imports.values()].some((i) => !knownHost(i.qualified))) throw new GiveUp();

  const byFunction = new Map<string, Set<string>>();
  const signatureOf = (f: string) => functions.get(f)?.signature ?? imports.get(f)?.signature;
  const solver = new Solver(Math.max(0, ...table.keys()) + 1, (site, index) => {
    const f = table.get(index);
    if (f === undefined || signatureOf(f) !== site.signature) return; // traps: calls nothing
    byFunction.get(site.caller)!.add(f);
    const callee = functions.get(f);
    if (!callee) return; // a known host function in the table: returns no address
    site.args.forEach((a, k) => {
      const p = callee.params[k];
      if (p !== undefined) solver.edge(a, solver.node(`L ${f} ${p}`));
    });
    solver.edge(solver.node(`R ${f}`), site.result);
  });
  const TOP: Src = { consts: [...table.keys()], nodes: [] };
  const MEMORY = solver.node('M');
  solver.flow({ consts: [...marked.inData], nodes: [] }, MEMORY);
  let markedSeen = 0;
  let sites = 0;

  for (const [name, fn] of functions) {
    byFunction.set(name, new Set());
    const local = (l: SExpr) => solver.node(`L ${name} ${String(l)}`);
    const ret = solver.node(`R ${name}`);
    const ev = (e: SExpr): Src => {
      if (!Array.isArray(e)) return EMPTY;
      const head = e[0];
      if (typeof head !== 'string') throw new GiveUp();
      const kids = e.slice(1).filter((x): x is SExpr[] => Array.isArray(x));
      const all = () => union(kids.map(ev));
      switch (head) {
        case 'type':
        case 'result':
        case 'param':
        case 'local':
          return EMPTY;
        case 'local.get':
          return { consts: [], nodes: [local(e[1]!)] };
        case 'local.set':
        case 'local.tee': {
          const l = local(e[1]!);
          solver.flow(all(), l);
          return head === 'local.tee' ? { consts: [], nodes: [l] } : EMPTY;
        }
        case 'global.get':
          return { consts: [], nodes: [solver.node(`G ${String(e[1])}`)] };
        case 'global.set':
          solver.flow(all(), solver.node(`G ${String(e[1])}`));
          return EMPTY;
        case 'i32.const': {
          const v = Number(e[1]);
          if (v < marked.marker || v >= marked.marker + MARKED_RANGE) return EMPTY;
          markedSeen++;
          if (!table.has(v - marked.marker)) throw new GiveUp();
          return { consts: [v - marked.marker], nodes: [] };
        }
        case 'call':
        case 'return_call': {
          const target = String(e[1]).slice(1);
          const args = kids.map(ev);
          const callee = functions.get(target);
          let result: Src;
          if (callee) {
            args.forEach((a, k) => {
              const p = callee.params[k];
              if (p !== undefined) solver.flow(a, solver.node(`L ${target} ${p}`));
            });
            result = { consts: [], nodes: [solver.node(`R ${target}`)] };
          } else result = EMPTY; // a known host function (unknown ones gave up above)
          if (head === 'return_call') {
            solver.flow(result, ret);
            return EMPTY;
          }
          return result;
        }
        case 'call_indirect':
        case 'return_call_indirect': {
          const typeRef = kids.find((k) => k[0] === 'type');
          const sig = typeRef ? types.get(String(typeRef[1]).slice(1)) : undefined;
          if (sig === undefined) throw new GiveUp();
          const operands = kids.filter((k) => k[0] !== 'type');
          const id = sites++;
          const site: Site = { signature: sig, args: [], result: solver.node(`C ${id}`), caller: name, seen: [] };
          const target = solver.node(`T ${id}`);
          operands.forEach((o, k) => {
            const v = ev(o);
            if (k === operands.length - 1) solver.flow(v, target);
            else {
              const a = solver.node(`A ${id} ${k}`);
              solver.flow(v, a);
              site.args.push(a);
            }
          });
          solver.watch(target, site);
          const result = { consts: [], nodes: [site.result] };
          if (head === 'return_call_indirect') {
            solver.flow(result, ret);
            return EMPTY;
          }
          return result;
        }
        case 'call_ref':
        case 'return_call_ref':
        case 'ref.func':
          throw new GiveUp();
        case 'table.get':
        case 'pop':
          all();
          return TOP;
        case 'drop':
          all();
          return EMPTY;
        case 'return':
          solver.flow(all(), ret);
          return EMPTY;
        default:
          if (/\.atomic\.rmw/.test(head)) {
            const [address, ...values] = kids;
            if (address) ev(address);
            for (const v of values) solver.flow(ev(v), MEMORY);
            return { consts: [], nodes: [MEMORY] };
          }
          if (/\.store/.test(head)) {
            const [address, value] = kids;
            if (address) ev(address);
            if (value) solver.flow(ev(value), MEMORY);
            return EMPTY;
          }
          if (/\.load/.test(head)) {
            all();
            return { consts: [], nodes: [MEMORY] };
          }
          return all(); // arithmetic, blocks, branches, select …: whatever their operands carry
      }
    };
    solver.flow(union(fn.tree.slice(2).map(ev)), ret);
  }
  if (markedSeen !== marked.count) throw new GiveUp(); // a constant of the program's own fell in the marker range
  solver.solve();
  return { byFunction };
}
