/*
 * kafu.h — mark where functions run.
 *
 *   KAFU_DEST(f, "edge")   calls of f run on node "edge"; returning from f goes back to the caller's node.
 *   KAFU_EXPORT(f)         keeps f as a named export so the instrumenter can find it.
 *
 * Source-compatible with the original Kafu SDK. KAFU_DEST records "<function>\0<node>\0" in the custom section
 * "kafu.dest"; wasm-ld concatenates the records of every object file (an empty section would be dropped, so the
 * record carries the names as content). `kafu clang` reads them, instruments each function, and removes the section.
 *
 * Compiled for anything but WebAssembly (gcc or clang for the host, for unit tests and debugging) both macros expand
 * to nothing: the program is then an ordinary program that runs in one place.
 */
#ifndef KAFU_H
#define KAFU_H

#if defined(__wasm__)

#ifdef __cplusplus
#define KAFU_EXTERN_C extern "C"
#else
#define KAFU_EXTERN_C
#endif

#define KAFU_EXPORT(name) KAFU_EXTERN_C __attribute__((used, noinline, export_name(#name)))

#define KAFU_DEST(name, node)                                                                  \
  __asm__(".section .custom_section.kafu.dest,\"\",@\n"                                     \
          ".asciz \"" #name "\"\n"                                                             \
          ".asciz " #node "\n"                                                                  \
          ".text\n");

#else /* a native build: no nodes, no migration */

#define KAFU_EXPORT(name)
#define KAFU_DEST(name, node)

#endif

#endif /* KAFU_H */
