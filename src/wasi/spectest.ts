// The `spectest` import module the original Kafu links (wasmtime's spectest host): print_i32(1) prints "1: i32" on
// a line of the program's stdout, and so on (include/spectest.h declares them). Lines go through the program's
// fd 1 (WasiHost.writeStdout), so they are forwarded like its other output (app.output: first_node); like
// wasmtime's, they are not ordered with what the C library still holds in its stdout buffer.
import type { WasiHost } from './host.js';

/** Rust's `Display` of a float, which wasmtime uses: the shortest text that reads back, never in exponent form. */
export function rustFloat(v: number, bits: 32 | 64): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  let text = String(v);
  if (bits === 32) {
    // The shortest decimal that rounds to the same f32 (String() would give the f64 digits of the widened value).
    for (let p = 1; p <= 9; p++) {
      const t = v.toPrecision(p);
      if (Math.fround(Number(t)) === v) {
        text = String(Number(t));
        break;
      }
    }
  }
  return plainDecimal(text);
}

/** "1e+21" → "1000000000000000000000", "1.5e-7" → "0.00000015". */
function plainDecimal(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, int, frac = '', expText] = m;
  const exp = Number(expText);
  const digits = int! + frac;
  const point = int!.length + exp;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`.replace(/0+$/, '');
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** The `spectest` imports of a program whose library OS is `wasi`. */
export function spectestImports(wasi: WasiHost): Record<string, (...args: never[]) => void> {
  const encoder = new TextEncoder();
  const writeLine = (line: string) => wasi.writeStdout(encoder.encode(`${line}\n`));
  return {
    print: () => {},
    print_i32: (v: number) => writeLine(`${v | 0}: i32`),
    print_i64: (v: bigint) => writeLine(`${BigInt.asIntN(64, v)}: i64`),
    print_f32: (v: number) => writeLine(`${rustFloat(v, 32)}: f32`),
    print_f64: (v: number) => writeLine(`${rustFloat(v, 64)}: f64`),
    print_i32_f32: (i: number, f: number) => {
      writeLine(`${i | 0}: i32`);
      writeLine(`${rustFloat(f, 32)}: f32`);
    },
    print_f64_f64: (a: number, b: number) => {
      writeLine(`${rustFloat(a, 64)}: f64`);
      writeLine(`${rustFloat(b, 64)}: f64`);
    },
  };
}
