/*
 * spectest.h — the original Kafu SDK's test printing imports (module "spectest", as wasmtime's spectest host and
 * the WebAssembly spec interpreter provide them). Each prints its value and type on a line of the program's
 * standard output, as wasmtime does: spectest_print_i32(1) prints "1: i32".
 *
 * Compiled for anything but WebAssembly, the same functions print the same lines with printf.
 */
#ifndef KAFU_SPECTEST_H
#define KAFU_SPECTEST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__wasm__)

#define KAFU_SPECTEST_IMPORT(name) __attribute__((import_module("spectest"), import_name(name)))

KAFU_SPECTEST_IMPORT("print") void spectest_print(void);
KAFU_SPECTEST_IMPORT("print_i32") void spectest_print_i32(int32_t value);
KAFU_SPECTEST_IMPORT("print_i64") void spectest_print_i64(int64_t value);
KAFU_SPECTEST_IMPORT("print_f32") void spectest_print_f32(float value);
KAFU_SPECTEST_IMPORT("print_f64") void spectest_print_f64(double value);
KAFU_SPECTEST_IMPORT("print_i32_f32") void spectest_print_i32_f32(int32_t i, float f);
KAFU_SPECTEST_IMPORT("print_f64_f64") void spectest_print_f64_f64(double a, double b);

#undef KAFU_SPECTEST_IMPORT

#else /* native: the same lines with printf (%g is close to, not exactly, wasmtime's shortest form for floats) */

#include <inttypes.h>
#include <stdio.h>

static inline void spectest_print(void) {}
static inline void spectest_print_i32(int32_t v) { printf("%" PRId32 ": i32\n", v); }
static inline void spectest_print_i64(int64_t v) { printf("%" PRId64 ": i64\n", v); }
static inline void spectest_print_f32(float v) { printf("%g: f32\n", (double)v); }
static inline void spectest_print_f64(double v) { printf("%.17g: f64\n", v); }
static inline void spectest_print_i32_f32(int32_t i, float f) { spectest_print_i32(i); spectest_print_f32(f); }
static inline void spectest_print_f64_f64(double a, double b) { spectest_print_f64(a); spectest_print_f64(b); }

#endif

#ifdef __cplusplus
}
#endif

#endif /* KAFU_SPECTEST_H */
