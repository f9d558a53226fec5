// A program that traps on the edge node: kafu must end it with wasmtime's exit code 134 and a backtrace in the
// program's own function names (kafu clang keeps the name section).
#include <stdio.h>
#include "kafu.h"

__attribute__((noinline)) void crash(int *p) {
  if (*p == 0) __builtin_trap();
}

KAFU_DEST(f, "edge")
KAFU_EXPORT(f)
void f(int *p) {
  printf("on edge\n");
  fflush(stdout);
  crash(p);
}

int main(void) {
  int x = 0;
  f(&x);
  printf("not reached\n");
  return 0;
}
