// CPU-bound kernels where instrumentation sits on hot paths (bench:instrument): each calls through function
// pointers whose type matches a KAFU_DEST function whose address is taken, so the call graph must count every such
// call as one that may reach a migration point. None migrates here (the KAFU_DEST functions are never called):
// what is measured is what the instrumentation costs. argv[1] names the kernel; prints a checksum.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kafu.h"

// --- KAFU_DEST functions of the kernels' pointer types, address-taken (in the tables below) ---
int remote_cmp(const void *a, const void *b);
int remote_op(int32_t *regs, int32_t arg);
void remote_hook(uint32_t v);
double remote_fp(double a, double b);
KAFU_DEST(remote_cmp, "edge") KAFU_EXPORT(remote_cmp) int remote_cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
KAFU_DEST(remote_op, "edge") KAFU_EXPORT(remote_op) int remote_op(int32_t *regs, int32_t arg) { regs[0] += arg; return 1; }
KAFU_DEST(remote_hook, "edge") KAFU_EXPORT(remote_hook) void remote_hook(uint32_t v) { (void)v; }
KAFU_DEST(remote_fp, "edge") KAFU_EXPORT(remote_fp) double remote_fp(double a, double b) { return a - b; }

static volatile int pick; // 0 at run time: the remote entries stay in the tables but are never called

// qsort, whose comparator has the type of a function that can reach a migration point.
static int cmp_int(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }
static int (*cmps[])(const void *, const void *) = {cmp_int, remote_cmp};
static uint32_t k_qsort(void) {
  enum { N = 200000 };
  int *v = malloc(N * sizeof *v);
  uint32_t h = 0, s = 1;
  for (int r = 0; r < 4; r++) {
    for (int i = 0; i < N; i++) v[i] = (int)(s = s * 1103515245u + 12345u) >> 4;
    qsort(v, N, sizeof *v, cmps[pick]);
    h = h * 31 + (uint32_t)v[N / 2];
  }
  free(v);
  return h;
}

// A bytecode interpreter dispatching through a table of handlers.
static int op_add(int32_t *r, int32_t a) { r[0] += a; return 1; }
static int op_mul(int32_t *r, int32_t a) { r[0] = r[0] * (a | 1); return 1; }
static int op_xor(int32_t *r, int32_t a) { r[1] ^= r[0] + a; return 1; }
static int op_jmp(int32_t *r, int32_t a) { return r[2]-- > 0 ? -a : 1; }  // back to the start (a = its pc)
static int (*ops[])(int32_t *, int32_t) = {op_add, op_mul, op_xor, op_jmp, remote_op};
static uint32_t k_interp(void) {
  static const uint8_t code[] = {0, 1, 2, 0, 1, 2, 0, 2, 3};
  static const int32_t args[] = {3, 5, 7, 11, 13, 17, 19, 23, 8};
  int32_t r[3] = {1, 0, 4000000};
  for (int pc = 0; pc < (int)sizeof code;) pc += ops[code[pc] + (pick ? 4 - code[pc] : 0)](r, args[pc]);
  return (uint32_t)(r[0] ^ r[1]);
}

// Recursion that reports through a hook pointer at every call.
static uint32_t hook_acc;
static void local_hook(uint32_t v) { hook_acc = hook_acc * 33 + v; }
static void (*hooks[])(uint32_t) = {local_hook, remote_hook};
static uint32_t fib(uint32_t n) {
  hooks[pick](n);
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
static uint32_t k_recursion(void) { return fib(30) ^ hook_acc; }

// Hashing a buffer, a block at a time through a hook.
static uint32_t k_hash(void) {
  enum { N = 1 << 20 };
  uint8_t *buf = malloc(N);
  for (int i = 0; i < N; i++) buf[i] = (uint8_t)(i * 2654435761u >> 24);
  uint64_t h = 1469598103934665603ull;
  for (int r = 0; r < 40; r++) {
    for (int i = 0; i < N; i++) {
      h = (h ^ buf[i]) * 1099511628211ull;
      if ((i & 4095) == 0) hooks[pick]((uint32_t)h);
    }
  }
  free(buf);
  return (uint32_t)(h ^ (h >> 32)) ^ hook_acc;
}

// Floating point (an n-body step) with the pair force through a pointer.
static double local_fp(double a, double b) { return a - b; }
static double (*fps[])(double, double) = {local_fp, remote_fp};
static uint32_t k_float(void) {
  enum { N = 64 };
  double x[N], y[N], vx[N] = {0}, vy[N] = {0};
  for (int i = 0; i < N; i++) { x[i] = i * 1.5 + (i % 7); y[i] = i * 0.5 - (i % 3); }
  for (int step = 0; step < 600; step++)
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) {
        if (i == j) continue;
        double dx = fps[pick](x[j], x[i]), dy = fps[pick](y[j], y[i]);
        double d2 = dx * dx + dy * dy + 0.01, inv = 1.0 / (d2 * __builtin_sqrt(d2));
        vx[i] += dx * inv * 1e-3; vy[i] += dy * inv * 1e-3;
      }
  for (int i = 0; i < N; i++) { x[i] += vx[i]; y[i] += vy[i]; }
  double s = 0;
  for (int i = 0; i < N; i++) s += x[i] * 3 + y[i];
  return (uint32_t)(int64_t)(s * 1000);
}

int main(int argc, char **argv) {
  const char *k = argc > 1 ? argv[1] : "qsort";
  uint32_t r = !strcmp(k, "qsort") ? k_qsort() : !strcmp(k, "interp") ? k_interp() : !strcmp(k, "recursion") ? k_recursion()
             : !strcmp(k, "hash") ? k_hash() : !strcmp(k, "float") ? k_float() : 0;
  printf("%s %u\n", k, r);
  return 0;
}
