// Which functions can be on the stack when the program suspends. Asyncify on its own assumes that any indirect
// call may suspend, so it instruments every function that makes one (in C++, nearly all of them: the code grows
// by half). Here indirect calls are resolved against the functions whose addresses can flow to them (a points-to
// analysis, src/instrument/points-to.ts), or where that is not known, by signature against the functions the
// table (or ref.func) makes callable, so only functions that can really reach a suspending import get instrumented. The result feeds
// Asyncify's `asyncify-onlylist`; call_indirect sites inside listed functions stay instrumented.
//
// Input: binaryen's text of a module whose functions carry plain names (the name section is stripped before
// reading, so names are indices and cannot contain spaces or parentheses).

export interface CallGraph {
  /** Functions defined in the module, with their signatures. */
  functions: Map<string, {
    signature: string;
    calls: Set<string>;
    indirectSignatures: Set<string>;
    callsRef: boolean;
    /** It makes a tail call (return_call…), which Asyncify cannot suspend through. */
    tailCalls: boolean;
    /**
     * Every function this one's indirect calls can reach, where a points-to analysis knows it
     * (src/instrument/points-to.ts); without it, indirect calls are resolved by signature.
     */
    indirectCallees?: Set<string>;
  }>;
  /** Imported functions: internal name → "module.base" and signature. */
  imports: Map<string, { qualified: string; signature: string }>;
  /** Functions callable indirectly (table elements, ref.func). */
  escaping: Set<string>;
  /** The code changes a table at run time (table.set/grow/fill/copy/init): state a snapshot would have to hold. */
  mutatesTable: boolean;
}

const VALUE_TYPE = /\b(i32|i64|f32|f64|v128|funcref|externref|anyref|exnref)\b/g;

/** "(param $a i32) (param i64) (result f32)" → "i32,i64->f32" */
function signatureOf(text: string): string {
  const params: string[] = [];
  const results: string[] = [];
  for (const m of text.matchAll(/\((param|result)((?:\s+(?:\$\S+|[a-z0-9]+))*)\)/g)) {
    const types = [...m[2]!.matchAll(VALUE_TYPE)].map((t) => t[1]!);
    (m[1] === 'param' ? params : results).push(...types);
  }
  return `${params.join(',')}->${results.join(',')}`;
}

export function parseCallGraph(text: string): CallGraph {
  const types = new Map<string, string>();
  const functions: CallGraph['functions'] = new Map();
  const imports: CallGraph['imports'] = new Map();
  const escaping = new Set<string>();
  let current: ReturnType<CallGraph['functions']['get']> | undefined;
  let mutatesTable = false;
  for (const line of text.split('\n')) {
    if (line.startsWith(' (')) {
      current = undefined;
      let m: RegExpMatchArray | null;
      if ((m = line.match(/^ \(type \$(\S+) \(func(.*)$/))) types.set(m[1]!, signatureOf(m[2]!));
      else if ((m = line.match(/^ \(import "([^"]*)" "([^"]*)" \(func \$(\S+)(.*)$/))) {
        imports.set(m[3]!, { qualified: `${m[1]}.${m[2]}`, signature: signatureOf(m[4]!) });
      }
      else if ((m = line.match(/^ \(func \$(\S+)(.*)$/))) {
        current = { signature: signatureOf(m[2]!), calls: new Set(), indirectSignatures: new Set(), callsRef: false, tailCalls: false };
        functions.set(m[1]!, current);
      } else if (line.startsWith(' (elem')) {
        const afterOffset = line.replace(/^ \(elem(?: \$\S+)?(?: \(table \$\S+\))?(?: \((?:i32|i64)\.const -?\d+\)| declare)?/, '');
        for (const f of afterOffset.matchAll(/\$([^\s)]+)/g)) escaping.add(f[1]!);
      }
      continue;
    }
    if (!current) continue;
    for (const m of line.matchAll(/\((?:return_)?call \$([^\s)]+)/g)) current.calls.add(m[1]!);
    for (const m of line.matchAll(/\((?:return_)?call_indirect(?: \$\S+)? \(type \$([^\s)]+)\)/g)) {
      const sig = types.get(m[1]!);
      if (sig === undefined) current.callsRef = true; // unknown type: assume it may call anything
      else current.indirectSignatures.add(sig);
    }
    if (/\((?:return_)?call_ref\b/.test(line)) current.callsRef = true;
    if (/\(return_call/.test(line)) current.tailCalls = true;
    if (/\(table\.(?:set|grow|fill|copy|init)\b/.test(line)) mutatesTable = true;
    for (const m of line.matchAll(/\(ref\.func \$([^\s)]+)/g)) escaping.add(m[1]!);
  }
  return { functions, imports, escaping, mutatesTable };
}

/** Defined functions that can (transitively) call one of the imports named in `suspending` ("module.base"). */
export function functionsThatMaySuspend(graph: CallGraph, suspending: (qualifiedImport: string) => boolean): Set<string> {
  const may = new Set<string>();
  for (const [name, { qualified }] of graph.imports) if (suspending(qualified)) may.add(name);
  for (;;) {
    const suspendingSignatures = new Set<string>();
    let anyEscaping = false;
    for (const f of graph.escaping) {
      if (!may.has(f)) continue;
      anyEscaping = true;
      suspendingSignatures.add(graph.functions.get(f)?.signature ?? graph.imports.get(f)?.signature ?? '');
    }
    let grew = false;
    for (const [name, f] of graph.functions) {
      if (may.has(name)) continue;
      const reaches =
        [...f.calls].some((c) => may.has(c)) ||
        (f.indirectCallees
          ? [...f.indirectCallees].some((c) => may.has(c))
          : [...f.indirectSignatures].some((s) => suspendingSignatures.has(s)) || (f.callsRef && anyEscaping));
      if (reaches) {
        may.add(name);
        grew = true;
      }
    }
    if (!grew) break;
  }
  for (const name of graph.imports.keys()) may.delete(name);
  return may;
}
