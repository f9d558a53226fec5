// The transformation: linked wasm module with KAFU_DEST records  →  module that can suspend at migration points
// and resume in a fresh instance.
//
// Input contract: a wasm32-wasi command module (one memory, `_start`) linked by `kafu clang`, whose `kafu.dest`
// custom section lists (exported function, node) pairs (see include/kafu.h).
// Output contract (read by src/core/guest.ts):
//   * import `kafu.migration_point(point: i32, kind: i32)` — kind 0 at entry, 1 at exit of each KAFU_DEST
//     function. Each such function F keeps its name and index (so direct calls, exports and function-pointer calls
//     all reach it) but its body becomes `mp(id,0); r = F$kafu_body(args); mp(id,1); return r` — every `return`
//     inside the original body, early or not, passes the exit point.
//   * every mutable global exported as `kafu:global:<i>` (Asyncify does not save globals; __stack_pointer is one).
//   * Binaryen's Asyncify with only that import as a suspension source; its data area is a region the host
//     grows at the end of the one linear memory (single-memory design: Node 20 rejects two memories).
//   * with `normalPaths` (optimized builds), each instrumented function F runs a copy of its code without Asyncify's
//     rewind checks, and hands a resumed frame to `F$kafu_rw` (src/instrument/normal-path.ts).
//   * custom sections `kafu.meta` (JSON, src/core/metadata.ts) and `kafu.frames`; `kafu.dest` is removed.
import {
  DEST_SECTION,
  FRAMES_SECTION,
  INSTRUMENTATION_VERSION,
  META_SECTION,
  MIGRATION_IMPORT,
  encodeMetadata,
  parseDestRecords,
  type KafuMetadata,
  type MigrationPoint,
} from '../core/metadata.js';
import { UserError } from '../core/errors.js';
import { functionsThatMaySuspend, parseCallGraph } from './suspension-graph.js';
import { indirectTargets, type IndirectTargets } from './points-to.js';
import { TwinMismatch, functionAddressesFromTwin } from './function-addresses.js';
import { NORMAL_SUFFIX, REWIND_SUFFIX, optimizeNormalPaths, splitNormalPaths } from './normal-path.js';
import { WasmFormatError, codeSize, encodeFunctionNames, functionNames, importEntries, parseSections, serializeSections, type Section } from '../core/wasm-sections.js';

export interface InstrumentOptions {
  /** Binaryen optimize level for the code Asyncify adds (0-3). */
  optimizeLevel: number;
  /**
   * Also make every WASI call a place where the runtime may suspend (after the call returns). For test harnesses
   * that force migrations between system calls; it instruments nearly every function, so programs grow.
   */
  systemCallPoints?: boolean;
  /**
   * Optimize the whole module after Asyncify at `optimizeLevel`, as Emscripten does: Asyncify's code is written to be
   * simplified afterwards (its state checks fold, locals it saves coalesce), which takes back most of what it costs
   * in size and speed. For optimized builds (-O1 and up); an -O0 build stays as the compiler wrote it.
   */
  optimizeAfter?: boolean;
  /**
   * With `optimizeAfter`: give each instrumented function a normal path without Asyncify's rewind checks
   * (src/instrument/normal-path.ts). Much faster where a hot loop or recursion may reach a migration point, but each
   * instrumented function is then in the module twice; off for builds optimized for size (-Os, -Oz).
   */
  normalPaths?: boolean;
  /**
   * The same program linked again with `--table-base=TWIN_TABLE_BASE` (`kafu clang` does): comparing the two tells
   * which constants are function addresses, so indirect calls are resolved by a points-to analysis
   * (src/instrument/points-to.ts). Without it (or where the two differ otherwise), by type.
   */
  tableBaseTwin?: Uint8Array;
}

export interface InstrumentReport {
  points: { fn: string; node: string }[];
  codeSizeBefore: number;
  codeSizeAfter: number;
  /** How indirect calls were resolved: "by points-to analysis", or "by type (why)". */
  indirectCalls: string;
  /** How many functions may be on the stack at a migration point (and were instrumented). */
  instrumentedFunctions: number;
}

type Binaryen = typeof import('binaryen').default;

async function loadBinaryen(): Promise<Binaryen> {
  try {
    return (await import('binaryen')).default;
  } catch {
    throw new UserError(
      'the instrumentation engine (npm package "binaryen") is not installed; run `npm install binaryen` ' +
        '(it is an optional dependency, left out by `npm install --omit=optional`)',
    );
  }
}

const MP_INTERNAL = 'kafu$migration_point';
/** Host modules whose calls become migration points with --kafu-syscall-points (WASI, wasi-nn, Kafu's helper). */
const SYSTEM_MODULES = ['wasi_snapshot_preview1', 'wasi_ephemeral_nn', 'kafu_helper', 'spectest'];
const BODY_SUFFIX = '$kafu_body';

const TYPE_BYTES = (b: Binaryen, t: number): number =>
  t === b.i64 || t === b.f64 ? 8 : t === b.v128 ? 16 : 4;

export async function instrument(
  wasm: Uint8Array,
  options: InstrumentOptions,
): Promise<{ wasm: Uint8Array; report: InstrumentReport }> {
  const binaryen = await loadBinaryen();
  try {
    return instrumentWith(binaryen, wasm, options);
  } catch (e) {
    throw binaryenFailure(binaryen, e);
  }
}

/**
 * What binaryen threw, as an Error: its fatal errors arrive as C++ exception objects (no message, no stack) that
 * only binaryen can read. (Its aborts are already RuntimeErrors: "Aborted(Assertion failed: …)".)
 */
function binaryenFailure(binaryen: Binaryen, e: unknown): unknown {
  if (e instanceof Error || typeof e !== 'object' || e === null || !('gC' in e)) return e;
  const read = (binaryen as unknown as { getExceptionMessage?: (x: unknown) => string[] }).getExceptionMessage;
  let what = 'an exception';
  try {
    if (read) what = read(e).filter(Boolean).join(': ');
  } catch {
    // (not one of binaryen's after all)
  }
  return new Error(`binaryen failed: ${what}`);
}

function instrumentWith(binaryen: Binaryen, wasm: Uint8Array, options: InstrumentOptions): { wasm: Uint8Array; report: InstrumentReport } {
  const sections = parseSections(wasm);
  if (sections.some((s) => s.id === 0 && s.name === META_SECTION)) {
    throw new UserError('module is already instrumented by kafu (it has a kafu.meta section)');
  }
  const dests = sections
    .filter((s) => s.id === 0 && s.name === DEST_SECTION)
    .flatMap((s) => parseDestRecords(s.payload));

  // Without the name section binaryen names functions by index: plain names the call graph can parse, and which
  // Asyncify's comma-separated lists can hold (C++ names have commas). The output had no names anyway. Relocations
  // a link was asked to keep (--emit-relocs) are dropped: binaryen cannot keep them right.
  const unnamed = sections.filter((s) => !(s.id === 0 && s.name === 'name') && !isLinkingSection(s));
  const mod = readModule(binaryen, unnamed);
  try {
    const exports = new Map<string, { kind: number; value: string }>();
    for (let i = 0; i < mod.getNumExports(); i++) {
      const info = binaryen.getExportInfo(mod.getExportByIndex(i));
      exports.set(info.name, { kind: info.kind, value: info.value });
    }
    if (!exports.has('_start')) {
      throw new UserError('module has no `_start` export: kafu needs a WASI command (a program with main)');
    }
    checkSingleMemory(sections);
    // Measured on binaryen's own encoding of the unchanged module, so the ratio shows only what instrumentation
    // adds (wasm-ld's -O0 output pads every LEB to 5 bytes, which re-encoding alone removes).
    const codeSizeBefore = codeSize(mod.emitBinary());

    const points = wrapDestFunctions(binaryen, mod, dests, exports, new Set(functionNames(sections).values()));
    const globals = exportMutableGlobals(binaryen, mod);

    binaryen.setOptimizeLevel(Math.max(0, Math.min(3, options.optimizeLevel)));
    binaryen.setShrinkLevel(0);
    const mpImport = `${MIGRATION_IMPORT.module}.${MIGRATION_IMPORT.name}`;
    const suspends = (q: string) => q === mpImport || (options.systemCallPoints === true && SYSTEM_MODULES.some((m) => q.startsWith(`${m}.`)));
    // Nothing can suspend in a module without migration points: leave its code as it is (and C++ builds fast).
    let indirectCalls = 'not resolved (nothing can migrate)';
    let instrumentedFunctions = 0;
    if (points.length > 0 || options.systemCallPoints) {
      const graph = parseCallGraph(mod.emitText());
      if (graph.mutatesTable) {
        // Function references are opaque to the host: there is no engine-neutral way to save a changed table.
        throw new UserError('the module changes its function table at run time (table.set/grow/…); kafu cannot carry that across a migration');
      }
      const resolved = indirectCallees(binaryen, unnamed, options.tableBaseTwin);
      indirectCalls = typeof resolved === 'string' ? `by type (${resolved})` : 'by points-to analysis';
      const targets = typeof resolved === 'string' ? undefined : resolved;
      if (targets) {
        for (const [name, f] of graph.functions) {
          // F$kafu_body holds what was F's code; the wrapper F only calls it (and the migration point).
          const callees = targets.byFunction.get(name.endsWith(BODY_SUFFIX) ? name.slice(0, -BODY_SUFFIX.length) : name);
          if (callees) f.indirectCallees = callees;
        }
      }
      const onStack = functionsThatMaySuspend(graph, suspends);
      // Asyncify refuses any tail call in the module, on the stack at a migration point or not.
      const tailCalling = [...graph.functions].filter(([, f]) => f.tailCalls).map(([name]) => name);
      if (tailCalling.length > 0) {
        const importedBefore = importEntries(sections).filter((i) => i.kind === 0).length;
        throw new UserError(tailCallsUnsupported(tailCalling.map((f) => sourceName(f, functionNames(sections), importedBefore))));
      }
      instrumentedFunctions = [...onStack].filter((f) => graph.functions.has(f)).length;
      runAsyncify(binaryen, mod, options.systemCallPoints ? [mpImport, ...SYSTEM_MODULES.map((m) => `${m}.*`)] : [mpImport], onStack);
      // Everything the metadata names survives: KAFU_DEST functions and mutable globals are exports, function names
      // are binaryen's own (originalFunctionNames maps them, whatever the indices become), and the frame bounds and
      // code size below are read from the optimized module.
      if (options.optimizeAfter) {
        mod.optimize();
        if (options.normalPaths) {
          // A KAFU_DEST function keeps only Asyncify's code: each call of it enters the host twice (its migration
          // points), against which the checks a normal path would save are noise; a normal path would only add code.
          const wrappers = new Set(points.map((p) => exports.get(p.fn)!.value));
          optimizeNormalPaths(binaryen, mod, splitNormalPaths(binaryen, mod, [...onStack].filter((f) => !wrappers.has(f)), suspends));
        }
      }
    }
    if (!mod.validate()) throw new Error('kafu internal error: instrumented module does not validate');

    const { frameBounds, importedFunctions } = frameSaveBounds(binaryen, mod);
    const importedBefore = importEntries(sections).filter((i) => i.kind === 0).length;
    const finalNames = originalFunctionNames(binaryen, mod, functionNames(sections), importedBefore);
    const out = mod.emitBinary();
    const codeSizeAfter = codeSize(out);
    const meta: KafuMetadata = {
      format: 'kafu-instrumented',
      version: INSTRUMENTATION_VERSION,
      points,
      globals,
      systemCallPoints: options.systemCallPoints === true,
      importedFunctions,
      codeSizeBefore,
      codeSizeAfter,
    };
    const outSections: Section[] = parseSections(out).filter((s) => !(s.id === 0 && (s.name === DEST_SECTION || s.name === 'name')));
    if (finalNames.size > 0) outSections.push({ id: 0, name: 'name', payload: encodeFunctionNames(finalNames) });
    outSections.push({ id: 0, name: META_SECTION, payload: encodeMetadata(meta) });
    outSections.push({ id: 0, name: FRAMES_SECTION, payload: new Uint8Array(frameBounds.buffer) });
    return {
      wasm: serializeSections(outSections),
      report: { points: points.map(({ fn, node }) => ({ fn, node })), codeSizeBefore, codeSizeAfter, indirectCalls, instrumentedFunctions },
    };
  } finally {
    mod.dispose();
  }
}

/**
 * Why a program with tail calls cannot have migration points: binaryen's Asyncify stops at the first tail call in the
 * module ("tail calls not yet supported in asyncify"), wherever it is; and the fix. Lowering them to plain calls
 * would let a long tail-call chain overflow the stack where the plain build runs in constant space.
 */
function tailCallsUnsupported(names: string[]): string {
  const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? ` and ${names.length - 5} more` : '');
  return `the program makes tail calls (return_call, from -mtail-call) in ${shown}: kafu cannot instrument a ` +
    'program with tail calls for migration (its stack suspension does not support them) — build without -mtail-call';
}

/** The source name of a function binaryen named by index (see GENERATED_NAME), or binaryen's name. */
function sourceName(name: string, original: Map<number, string>, importedBefore: number): string {
  const m = GENERATED_NAME.exec(name);
  if (!m) return name;
  return original.get(importedBefore + Number(m[1])) ?? `function #${importedBefore + Number(m[1])} (the module has no names)`;
}

/** Marked function addresses lie at and above this constant in the module the points-to analysis reads. */
const ADDRESS_MARKER = 0x3000_0000;

/**
 * What each function's indirect calls can reach (src/instrument/points-to.ts), where the module came with its twin
 * link (`kafu clang` links twice) and the analysis can follow it; else why not.
 * `unnamed`: the module's sections as binaryen reads them.
 */
function indirectCallees(binaryen: Binaryen, unnamed: Section[], twin: Uint8Array | undefined): IndirectTargets | string {
  if (!twin) return 'no twin link';
  let marked;
  try {
    marked = functionAddressesFromTwin(unnamed, parseSections(twin).filter((s) => !isLinkingSection(s)), ADDRESS_MARKER);
  } catch (e) {
    if (e instanceof TwinMismatch || e instanceof WasmFormatError) return `the twin link differs: ${e.message}`;
    throw e;
  }
  const withMarks = readModule(binaryen, unnamed.map((s) => (s.id === 10 ? { id: 10, payload: marked.markedCode } : s)));
  try {
    return (
      indirectTargets(
        withMarks.emitText(),
        { marker: ADDRESS_MARKER, count: marked.markedCount, inData: marked.inData },
        (q) => SYSTEM_MODULES.some((m) => q.startsWith(`${m}.`)),
      ) ?? 'the points-to analysis met what it does not model'
    );
  } finally {
    withMarks.dispose();
  }
}

/** Sections wasm-ld's --emit-relocs adds, which no engine needs (and binaryen cannot keep right). */
/**
 * The module in binaryen. Binaryen learns which features a module uses from its `target_features` section; one
 * linked with `-Wl,--strip-all` has none, and binaryen then assumes the MVP and aborts on its first bulk-memory
 * instruction. Such a module gets what clang's default target enables (bulk memory, sign extension, non-trapping
 * float-to-int, mutable globals, reference types, multi-value) and SIMD, which every engine Kafu runs on has.
 */
function readModule(binaryen: Binaryen, sections: Section[]): InstanceType<Binaryen['Module']> {
  const mod = binaryen.readBinary(serializeSections(sections));
  if (!sections.some((s) => s.id === 0 && s.name === 'target_features')) {
    const f = binaryen.Features;
    const assumed = f.MutableGlobals | f.SignExt | f.NontrappingFPToInt | f.BulkMemory | f.BulkMemoryOpt | f.ReferenceTypes | f.Multivalue | f.SIMD128 | f.CallIndirectOverlong;
    mod.setFeatures(mod.getFeatures() | assumed);
  }
  return mod;
}

const isLinkingSection = (s: Section): boolean => s.id === 0 && (s.name === 'linking' || (s.name?.startsWith('reloc.') ?? false));

function checkSingleMemory(sections: Section[]): void {
  const memorySection = sections.find((s) => s.id === 5);
  const defined = memorySection?.payload[0] ?? 0; // a count below 128 is a one-byte LEB128
  const imported = importEntries(sections).filter((i) => i.kind === 2).length;
  if (defined !== 1 || imported !== 0) {
    throw new UserError(
      `module must define exactly one linear memory and import none (found ${defined} defined, ${imported} ` +
        'imported); kafu keeps all state in the one memory',
    );
  }
}

function wrapDestFunctions(
  binaryen: Binaryen,
  mod: InstanceType<Binaryen['Module']>,
  dests: { fn: string; node: string }[],
  exports: Map<string, { kind: number; value: string }>,
  sourceNames: Set<string>,
): MigrationPoint[] {
  const seen = new Map<string, string>();
  const points: MigrationPoint[] = [];
  if (dests.length > 0) {
    mod.addFunctionImport(
      MP_INTERNAL,
      MIGRATION_IMPORT.module,
      MIGRATION_IMPORT.name,
      binaryen.createType([binaryen.i32, binaryen.i32]),
      binaryen.none,
    );
  }
  for (const { fn, node } of dests) {
    if (node === '') throw new UserError(`KAFU_DEST(${fn}, "") names an empty node id`);
    const prior = seen.get(fn);
    if (prior !== undefined) {
      if (prior === node) continue; // the same KAFU_DEST in two translation units (e.g. in a header)
      throw new UserError(`KAFU_DEST(${fn}, …) names two different nodes: "${prior}" and "${node}"`);
    }
    seen.set(fn, node);
    const exp = exports.get(fn);
    if (!exp || exp.kind !== binaryen.ExternalFunction) throw new UserError(notExported(sourceNames, fn, node));
    const internal = exp.value;
    const info = binaryen.getFunctionInfo(mod.getFunction(internal));
    if (info.module) throw new UserError(`KAFU_DEST(${fn}, "${node}"): "${fn}" is imported, not defined in the program`);
    const results = binaryen.expandType(info.results);
    if (results.length > 1) throw new UserError(`KAFU_DEST(${fn}): functions returning several values are not supported`);
    const params = binaryen.expandType(info.params);
    const id = points.length;
    const bodyName = internal + BODY_SUFFIX;
    mod.addFunction(bodyName, info.params, info.results, info.vars, mod.copyExpression(info.body));
    mod.removeFunction(internal);

    const mp = (kind: number) => mod.call(MP_INTERNAL, [mod.i32.const(id), mod.i32.const(kind)], binaryen.none);
    const call = mod.call(bodyName, params.map((t, i) => mod.local.get(i, t)), info.results);
    const resultLocal = params.length;
    const body =
      results.length === 0
        ? mod.block(null, [mp(0), call, mp(1)], binaryen.none)
        : mod.block(
            null,
            [mp(0), mod.local.set(resultLocal, call), mp(1), mod.local.get(resultLocal, info.results)],
            info.results,
          );
    mod.addFunction(internal, info.params, info.results, results.length === 0 ? [] : [info.results], body);
    points.push({ id, fn, node });
  }
  return points;
}

/**
 * Why a KAFU_DEST names no exported function, with the fix. The module's name section (demangled by the linker)
 * tells a function that is defined but not exported — `static`, or KAFU_EXPORT missing — from one that is absent.
 */
function notExported(sourceNames: Set<string>, fn: string, node: string): string {
  const at = `KAFU_DEST(${fn}, "${node}")`;
  if (fn.includes('::')) {
    return `${at}: a C++ member or namespaced function cannot be a migration point (it has no C name to export) — ` +
      'wrap the call in a free function and mark that one, e.g. KAFU_DEST(plan_on_edge, ' + `"${node}") and ` +
      'KAFU_EXPORT(plan_on_edge) int plan_on_edge(Planner *p, int x) { return p->plan(x); }';
  }
  if (sourceNames.has(fn)) {
    return `${at}: "${fn}" is defined but not exported — KAFU_EXPORT(${fn}) must come before its declaration, and ` +
      `${fn} must not be static (a static function is never exported: remove \`static\`)`;
  }
  return `${at}: no exported function named "${fn}" — add KAFU_EXPORT(${fn}) before its declaration (and make ` +
    'sure the function is defined in the program)';
}

function exportMutableGlobals(binaryen: Binaryen, mod: InstanceType<Binaryen['Module']>): KafuMetadata['globals'] {
  const names: KafuMetadata['globals'] = [];
  const typeName = new Map([
    [binaryen.i32, 'i32'],
    [binaryen.i64, 'i64'],
    [binaryen.f32, 'f32'],
    [binaryen.f64, 'f64'],
  ] as const);
  const count = mod.getNumGlobals();
  for (let i = 0; i < count; i++) {
    const info = binaryen.getGlobalInfo(mod.getGlobalByIndex(i));
    if (!info.mutable) continue;
    if (info.module) {
      throw new UserError(`module imports the mutable global ${info.module}.${info.base}; kafu cannot save it`);
    }
    const type = typeName.get(info.type);
    if (!type) throw new UserError(`mutable global ${info.name} has a type kafu cannot save`);
    const name = `kafu:global:${i}`;
    mod.addGlobalExport(info.name, name);
    names.push({ name, type });
  }
  if (names.length > 0) mod.setFeatures(mod.getFeatures() | binaryen.Features.MutableGlobals);
  return names;
}

/** Per defined function: 4 bytes of call index plus every local (a safe upper bound of one Asyncify frame). */
function frameSaveBounds(
  binaryen: Binaryen,
  mod: InstanceType<Binaryen['Module']>,
): { frameBounds: Uint32Array; importedFunctions: number } {
  const defined: number[] = [];
  let imported = 0;
  for (let i = 0; i < mod.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
    if (info.module) {
      imported++;
      continue;
    }
    let bytes = 4;
    for (const t of [...binaryen.expandType(info.params), ...info.vars.flatMap((v) => binaryen.expandType(v))]) {
      bytes += TYPE_BYTES(binaryen, t);
    }
    defined.push(bytes);
  }
  return { frameBounds: Uint32Array.from(defined), importedFunctions: imported };
}

const escapeRe = (t: string) => t.replace(/[$]/g, '\\$&');
/** A function binaryen named by index (see below), perhaps one kafu split off it. */
const GENERATED_NAME = new RegExp(`^(\\d+)(${escapeRe(BODY_SUFFIX)})?(${escapeRe(REWIND_SUFFIX)}|${escapeRe(NORMAL_SUFFIX)})?$`);

/**
 * The input's function names, re-indexed for the output (binaryen read the module without them, naming each
 * defined function by its position among the defined ones), so traps and profiles show C/C++ names.
 */
function originalFunctionNames(
  binaryen: Binaryen,
  mod: InstanceType<Binaryen['Module']>,
  original: Map<number, string>,
  importedBefore: number,
): Map<number, string> {
  const names = new Map<number, string>();
  if (original.size === 0) return names;
  const imported: string[] = [];
  const defined: string[] = [];
  for (let i = 0; i < mod.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
    (info.module ? imported : defined).push(info.name);
  }
  // Binaryen writes imported functions first, then defined ones, each in module order.
  [...imported, ...defined].forEach((name, index) => {
    const m = GENERATED_NAME.exec(name);
    const base = m ? original.get(importedBefore + Number(m[1])) : undefined;
    const copy = m?.[3] === REWIND_SUFFIX ? ' [kafu resume]' : m?.[3] === NORMAL_SUFFIX ? ' [kafu normal]' : '';
    if (base !== undefined) names.set(index, `${base}${m![2] ? ' [kafu body]' : ''}${copy}`);
    else if (!/^fimport\$\d+$/.test(name)) names.set(index, name);
  });
  return names;
}

/**
 * Binaryen's Asyncify pass on `mod`: `imports` (module.name patterns) may suspend, and only the functions `onStack`
 * are instrumented. The pass arguments are global to binaryen, so they are cleared again whatever happens.
 */
export function runAsyncify(binaryen: Binaryen, mod: InstanceType<Binaryen['Module']>, imports: string[], onStack: Iterable<string>): void {
  binaryen.setPassArgument('asyncify-imports', imports.join(','));
  binaryen.setPassArgument('asyncify-onlylist', [...onStack].join(','));
  try {
    mod.runPasses(['asyncify']);
  } finally {
    binaryen.setPassArgument('asyncify-imports', null);
    binaryen.setPassArgument('asyncify-onlylist', null);
  }
}
