// Execution-time overhead of instrumentation: CPU-bound work whose call graph passes through a KAFU_DEST function
// (so instrumented code is on the hot path), run with no migration.
#include <stdio.h>
#include <stdlib.h>
#include "kafu.h"

static unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

typedef double (*op_fn)(double, double);
static double mul(double a, double b) { return a * b; }
static double add(double a, double b) { return a + b; }

KAFU_DEST(kernel, "edge")
KAFU_EXPORT(kernel)
double kernel(int n, op_fn m, op_fn a) {
  double *x = malloc(sizeof(double) * n * n), *y = malloc(sizeof(double) * n * n), s = 0;
  for (int i = 0; i < n * n; i++) { x[i] = (i % 7) * 0.5; y[i] = (i % 5) * 0.25; }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      double acc = 0;
      for (int k = 0; k < n; k++) acc = a(acc, m(x[i * n + k], y[k * n + j]));
      s += acc;
    }
  free(x); free(y);
  return s + fib(27);
}

int main(void) {
  double total = 0;
  for (int r = 0; r < 3; r++) total += kernel(120, mul, add);
  printf("%.3f\n", total);
  return 0;
}
