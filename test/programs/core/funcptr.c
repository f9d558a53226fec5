// KAFU_DEST functions reached through function pointers: a plain pointer variable, a struct holding one, an
// array of them, and libc's qsort calling a comparator (the migration unwinds qsort's own frames). add(),
// scale() and by_value() run on "edge", sub() on "cloud" (where main runs: no move).
#include <stdio.h>
#include <stdlib.h>
#include "kafu.h"

KAFU_EXPORT(add) int add(int a, int b);
KAFU_EXPORT(scale) int scale(int a, int b);
KAFU_EXPORT(sub) int sub(int a, int b);
KAFU_EXPORT(by_value) int by_value(const void *a, const void *b);

typedef int (*binop)(int, int);

struct op {
    const char *name;
    binop fn;
};

static struct op ops[] = {{"add", add}, {"sub", sub}, {"scale", scale}};
static binop table[3];

static int edge_calls;
static int comparisons;

int main(int argc, char **argv) {
    (void)argv;
    // The pointer depends on argc so the compiler cannot turn the call into a direct one.
    binop volatile p = argc > 5 ? sub : add;
    int acc = p(40, 2);
    printf("p(40,2)=%d\n", acc);
    for (int i = 0; i < 3; i++) {
        acc = ops[i].fn(acc, i + 2);
        printf("ops[%d] %s -> %d\n", i, ops[i].name, acc);
    }
    table[0] = scale;
    table[1] = sub;
    table[2] = add;
    for (int i = 2; i >= 0; i--) acc = table[i](acc, 3);
    printf("table -> %d, edge_calls=%d\n", acc, edge_calls);
    int v[4] = {acc % 97, 13, acc % 89, 2};
    qsort(v, 4, sizeof v[0], by_value);
    printf("sorted %d %d %d %d, comparisons %d\n", v[0], v[1], v[2], v[3], comparisons);
    return 0;
}

KAFU_DEST(add, "edge")
int add(int a, int b) { edge_calls++; return a + b; }

KAFU_DEST(scale, "edge")
int scale(int a, int b) { edge_calls++; return a * b; }

KAFU_DEST(sub, "cloud")
int sub(int a, int b) { return a - b; }

KAFU_DEST(by_value, "edge")
int by_value(const void *a, const void *b) {
    comparisons++;
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
