// Kafu's basic example: main starts on cloud1, f is placed on cloud1 (no move: it is already there), g on edge1.
// Migrations: cloud1 -> edge1 (Entering g), edge1 -> cloud1 (Returning from g). Values computed on each side and
// a file written on both sides prove that the state crossed over and came back.
#include <stdio.h>
#include <string.h>
#include "kafu.h"

KAFU_EXPORT(f) int f(int x);
KAFU_EXPORT(g) int g(int x, char *note, int cap);

static int trace[8];
static int ntrace;

int main(void) {
    int base = 20;
    char note[64] = "main";
    FILE *out = fopen("/basic.txt", "w");
    if (!out) { perror("fopen"); return 1; }
    fprintf(out, "main starts, base=%d\n", base);
    printf("main: calling f(%d)\n", base);
    fflush(stdout);
    int r = f(base);
    g(r, note, (int)sizeof note);  // a second, direct call of g from main
    fprintf(out, "main ends, r=%d, note=%s\n", r, note);
    fclose(out);
    printf("main: f returned %d, note=\"%s\", trace:", r, note);
    for (int i = 0; i < ntrace; i++) printf(" %d", trace[i]);
    printf("\n");
    return 0;
}

KAFU_DEST(f, "cloud1")
int f(int x) {
    char note[64] = "f";
    int local = x * 2 + 1;
    trace[ntrace++] = local;
    printf("f: local=%d, calling g\n", local);
    fflush(stdout);
    int y = g(local, note, (int)sizeof note);
    printf("f: g returned %d, local still %d, note=\"%s\"\n", y, local, note);
    trace[ntrace++] = y;
    return y + local;
}

KAFU_DEST(g, "edge1")
int g(int x, char *note, int cap) {
    int sq = x * x;
    trace[ntrace++] = sq;
    size_t len = strlen(note);
    snprintf(note + len, (size_t)cap - len, "+g(%d)", x);
    printf("g: x=%d, x*x=%d\n", x, sq);
    fflush(stdout);
    return sq % 1000;
}
