// Recursion as deep as an 8 MiB C stack allows, across nodes: down() recurses argv[1] frames on the first node, then
// calls far() on "edge", which recurses argv[1] frames more and comes back. Build with -O0 -Wl,-z,stack-size=8388608.
// Every frame keeps a small array in the C stack, so the depth is bounded by the C stack (about 50 000 frames in
// all here), not only by the engine's.
#include <stdio.h>
#include <stdlib.h>
#include "kafu.h"

KAFU_EXPORT(far) long far(long depth);

static long rec(long n, long acc) {
    volatile char pad[48];
    pad[n % 48] = (char)n;
    if (n == 0) return acc;
    return rec(n - 1, acc * 31 + pad[n % 48]) + 1;
}

KAFU_DEST(far, "edge")
long far(long depth) {
    long r = rec(depth, 7);
    printf("edge: %ld frames deep, %ld\n", depth, r);
    fflush(stdout);
    return r;
}

static long down(long n, long depth) {
    volatile char pad[48];
    pad[n % 48] = (char)n;
    if (n == 0) return far(depth);
    return down(n - 1, depth) + pad[n % 48] % 2;
}

int main(int argc, char **argv) {
    long depth = argc > 1 ? atol(argv[1]) : 20000;
    long r = down(depth, depth);
    printf("cloud: back from %ld frames deep, %ld\n", depth, r);
    return 0;
}
