// `kafu inspect`: what a module holds for Kafu — migration points, instrumentation, code size.
import { DEST_SECTION, parseDestRecords, readMetadata } from '../core/metadata.js';
import { codeSize, parseSections } from '../core/wasm-sections.js';

export interface InspectReport {
  instrumented: boolean;
  instrumentationVersion?: number;
  points: { fn: string; node: string }[];
  mutableGlobals?: number;
  /** Built with --kafu-syscall-points: may also suspend after any WASI call. */
  systemCallPoints?: boolean;
  codeSize: number;
  codeSizeBefore?: number;
  codeSizeRatio?: number;
  moduleBytes: number;
}

export function inspectModule(bytes: Uint8Array, where = 'the module'): InspectReport {
  const meta = readMetadata(bytes, where);
  if (meta) {
    return {
      instrumented: true,
      instrumentationVersion: meta.version,
      points: meta.points.map(({ fn, node }) => ({ fn, node })),
      mutableGlobals: meta.globals.length,
      systemCallPoints: meta.systemCallPoints,
      codeSize: codeSize(bytes),
      codeSizeBefore: meta.codeSizeBefore,
      codeSizeRatio: meta.codeSizeBefore ? codeSize(bytes) / meta.codeSizeBefore : undefined,
      moduleBytes: bytes.byteLength,
    };
  }
  const points = parseSections(bytes)
    .filter((s) => s.id === 0 && s.name === DEST_SECTION)
    .flatMap((s) => parseDestRecords(s.payload));
  return { instrumented: false, points, codeSize: codeSize(bytes), moduleBytes: bytes.byteLength };
}

export function formatInspectReport(file: string, r: InspectReport): string {
  const lines = [`${file}`, `  instrumented:     ${r.instrumented ? `yes (kafu instrumentation v${r.instrumentationVersion})` : 'no'}`];
  lines.push(`  migration points: ${r.points.length === 0 ? 'none' : ''}`);
  for (const p of r.points) lines.push(`    ${p.fn} -> ${p.node}`);
  if (r.systemCallPoints) lines.push('  WASI calls:       suspension points too (--kafu-syscall-points, for forced-migration tests)');
  if (r.mutableGlobals !== undefined) lines.push(`  saved globals:    ${r.mutableGlobals}`);
  if (r.codeSizeBefore !== undefined) {
    lines.push(`  code size:        ${r.codeSizeBefore} bytes before, ${r.codeSize} after (x${r.codeSizeRatio!.toFixed(2)})`);
  } else {
    lines.push(`  code size:        ${r.codeSize} bytes`);
  }
  lines.push(`  module size:      ${r.moduleBytes} bytes`);
  if (!r.instrumented && r.points.length > 0) {
    lines.push('  (KAFU_DEST records present but not instrumented: built with --kafu-no-instrument?)');
  }
  return lines.join('\n') + '\n';
}
