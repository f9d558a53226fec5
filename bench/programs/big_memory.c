// bench:memory — a program with a large memory (argv[1] MiB, default 3072) that migrates to "edge" and back: it
// fills every 4093rd byte, edge checks the whole memory and changes one byte in every 7th page, then cloud sums
// again. The output is the same with and without migration only if every page arrived intact both ways.
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include "kafu.h"
KAFU_EXPORT(on_edge) unsigned on_edge(unsigned char *base, size_t n);
static unsigned sum(unsigned char *base, size_t n) {
  unsigned s = 0;
  for (size_t i = 0; i < n; i += 4093) s = s * 33 + base[i];
  return s;
}
KAFU_DEST(on_edge, "edge")
unsigned on_edge(unsigned char *base, size_t n) {
  unsigned s = sum(base, n);
  printf("edge: sum %u\n", s);
  for (size_t i = 0; i < n; i += 65536 * 7) base[i] ^= 0x5a;
  return s;
}
int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], 0, 10) : 3072;
  size_t n = mib << 20;
  size_t first = __builtin_wasm_memory_grow(0, n / 65536);
  if (first == (size_t)-1) { printf("grow failed\n"); return 1; }
  unsigned char *base = (unsigned char *)(first * 65536);
  for (size_t i = 0; i < n; i += 4093) base[i] = (unsigned char)(i * 2654435761u >> 24);
  unsigned s = sum(base, n);
  printf("cloud: memory %zu MiB, sum %u\n", mib, s);
  unsigned e = on_edge(base, n);
  printf("cloud: back, edge saw %s, sum now %u\n", e == s ? "the same" : "DIFFERENT", sum(base, n));
  return 0;
}
