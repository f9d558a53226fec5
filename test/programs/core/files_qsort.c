// A C program that opens files by path (wasi-libc's preopens: wasm-ld's --emit-relocs failed an assertion on
// these) and sorts with a migrating qsort comparator. Its function addresses come from a second link
// (src/instrument/function-addresses.ts): the comparator reaches only qsort's calls, so the printf family — whose
// FILE `write` has the type of qsort's wrapper — stays uninstrumented (test/clang/function-addresses.test.ts).
#include <stdio.h>
#include <stdlib.h>
#include "kafu.h"

KAFU_EXPORT(by_value) int by_value(const void *a, const void *b);

static int edge_calls;

int main(void) {
    int v[6];
    FILE *in = fopen("/numbers.txt", "r");
    if (!in) {
        perror("/numbers.txt");
        return 1;
    }
    int n = 0;
    while (n < 6 && fscanf(in, "%d", &v[n]) == 1) n++;
    fclose(in);
    qsort(v, (size_t)n, sizeof v[0], by_value);
    FILE *out = fopen("/sorted.txt", "w");
    if (!out) {
        perror("/sorted.txt");
        return 1;
    }
    for (int i = 0; i < n; i++) fprintf(out, "%d\n", v[i]);
    fclose(out);
    printf("sorted %d numbers, edge calls %d\n", n, edge_calls);
    return 0;
}

KAFU_DEST(by_value, "edge")
int by_value(const void *a, const void *b) {
    edge_calls++;
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
