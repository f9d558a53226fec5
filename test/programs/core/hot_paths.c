// Migrations from the hot paths of bench/programs/kernels.c, built with -O2 so that each instrumented function has
// a normal path and a resume copy (src/instrument/normal-path.ts): a qsort comparator, an interpreter's handler
// table, a recursion's hook and a floating-point kernel's pair function, each a pointer that holds the KAFU_DEST
// function some of the time. Frames suspended in a normal path resume in the resume copy, and suspend again there.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "kafu.h"

KAFU_EXPORT(remote_cmp) int remote_cmp(const void *a, const void *b);
KAFU_EXPORT(remote_op) int remote_op(int32_t *regs, int32_t arg);
KAFU_EXPORT(remote_hook) void remote_hook(uint32_t v);
KAFU_EXPORT(remote_fp) double remote_fp(double a, double b);
KAFU_DEST(remote_cmp, "edge")
int remote_cmp(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }
KAFU_DEST(remote_op, "edge")
int remote_op(int32_t *regs, int32_t arg) { regs[0] += arg * 3; return 1; }
static uint32_t hook_acc;
KAFU_DEST(remote_hook, "edge")
void remote_hook(uint32_t v) { hook_acc = hook_acc * 31 + v + 7; }
KAFU_DEST(remote_fp, "edge")
double remote_fp(double a, double b) { return a - b; }

static volatile int picks[] = {0, 1}; // read at run time: the optimizer cannot tell which entry a call takes

static int cmp_int(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }
static int (*cmps[])(const void *, const void *) = {cmp_int, remote_cmp};

static int op_add(int32_t *r, int32_t a) { r[0] += a; return 1; }
static int op_xor(int32_t *r, int32_t a) { r[1] ^= r[0] + a; return 1; }
static int op_jmp(int32_t *r, int32_t a) { return r[2]-- > 0 ? -a : 1; }
static int (*ops[])(int32_t *, int32_t) = {op_add, op_xor, op_jmp, remote_op};

static void local_hook(uint32_t v) { hook_acc = hook_acc * 33 + v; }
static void (*hooks[])(uint32_t) = {local_hook, remote_hook};
static uint32_t fib(uint32_t n) {
  hooks[picks[n % 7 == 3]](n); // the remote hook at some depths only
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static double local_fp(double a, double b) { return a - b; }
static double (*fps[])(double, double) = {local_fp, remote_fp};

int main(void) {
  int v[9];
  uint32_t s = 12345;
  for (int i = 0; i < 9; i++) v[i] = (int)((s = s * 1103515245u + 12345u) >> 20) % 1000;
  qsort(v, 9, sizeof *v, cmps[picks[1]]);
  for (int i = 0; i < 9; i++) printf("%d%c", v[i], i == 8 ? '\n' : ' ');

  static const uint8_t code[] = {0, 1, 3, 0, 1, 2};
  static const int32_t args[] = {3, 5, 7, 11, 13, 6};
  int32_t r[3] = {1, 0, 2};
  unsigned steps = 0;
  for (int pc = 0; pc < (int)sizeof code; steps++) pc += ops[code[pc]](r, args[pc]);
  printf("interp %d %d after %u steps\n", r[0], r[1], steps);

  uint32_t f = fib(9);
  printf("fib %u hooks %u\n", f, hook_acc);

  double x[4] = {0, 1.5, 4, 7.25}, acc = 0;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      if (i != j) acc += fps[picks[(i + j) % 3 == 0]](x[j], x[i]) * (i + 1);
  printf("float %.3f\n", acc);
  return 0;
}
