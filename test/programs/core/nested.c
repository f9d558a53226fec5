// Nested chain across three nodes: main on A calls b1 (B), which calls c1 (C), which calls b2 (B), which calls
// a1 (A). Entering migrates A->B->C->B->A, returning unwinds the same path backwards: 8 migrations. Each level
// keeps locals that it prints after its callee returns.
#include <stdio.h>
#include "kafu.h"

KAFU_EXPORT(b1) long b1(long v);
KAFU_EXPORT(c1) long c1(long v);
KAFU_EXPORT(b2) long b2(long v);
KAFU_EXPORT(a1) long a1(long v);

static char path[64];
static int plen;
static void visit(char c) { path[plen++] = c; path[plen] = 0; }

int main(void) {
    long start = 7;
    visit('A');
    long r = b1(start);
    visit('A');
    printf("main: start=%ld result=%ld path=%s\n", start, r, path);
    return 0;
}

KAFU_DEST(b1, "B")
long b1(long v) {
    long mine = v * 3;
    visit('B');
    long r = c1(mine + 1);
    visit('B');
    printf("b1: mine=%ld r=%ld\n", mine, r);
    return r + mine;
}

KAFU_DEST(c1, "C")
long c1(long v) {
    long mine = v * 5;
    visit('C');
    long r = b2(mine + 2);
    visit('C');
    printf("c1: mine=%ld r=%ld\n", mine, r);
    return r - mine;
}

KAFU_DEST(b2, "B")
long b2(long v) {
    long mine = v * 7;
    visit('B');
    long r = a1(mine + 3);
    visit('B');
    printf("b2: mine=%ld r=%ld\n", mine, r);
    return r ^ mine;
}

KAFU_DEST(a1, "A")
long a1(long v) {
    visit('A');
    printf("a1: v=%ld\n", v);
    return v * v;
}
