// Mutual recursion in tail position: with -mtail-call, clang emits return_call, which kafu's instrumentation
// (binaryen's Asyncify) does not support.
#include <stdio.h>
#include "kafu.h"
__attribute__((noinline)) long count(long n, long acc);
__attribute__((noinline)) long step(long n, long acc) { return count(n - 1, acc + n); }
long count(long n, long acc) { if (n == 0) return acc; return step(n, acc); }
KAFU_EXPORT(on_edge) int on_edge(int x);
KAFU_DEST(on_edge, "edge")
int on_edge(int x) { return x + 1; }
int main(void) { printf("%ld %d\n", count(5000, 0), on_edge(1)); return 0; }
