// Migration at recursion depth 10 000: the deepest call of down() calls far() (on "edge"); 10 000 frames are
// unwound, carried and rewound, then unwound again on the way back. heavy() is a locals-heavy recursion (many
// live values per frame) that migrates at depth 10 000 too. Build with -O0 and an 8 MiB C stack.
#include <stdio.h>
#include <stdlib.h>
#include "kafu.h"

KAFU_EXPORT(far) long far(long depth, long acc);

long down(long n, long acc) {
    long mine = acc * 31 + n;              // lives across the call below
    char pad[16];
    pad[n % 16] = (char)n;
    long r;
    if (n == 0) r = far(10000, mine);
    else r = down(n - 1, mine % 1000003);
    return r + mine % 7 + pad[n % 16] % 3;
}

KAFU_DEST(far, "edge")
long far(long depth, long acc) {
    printf("far: reached at depth %ld, acc=%ld\n", depth, acc);
    fflush(stdout);
    return acc ^ 0x5a5a;
}

double heavy(int n) {
    double a = n * 1.5, b = n * 2.25, c = n * 0.125, d = n - 3.0, e = a * b, f = c + d;
    long g = n * 7L, h = n * 11L, i = n * 13L, j = n * 17L, k = g ^ h, l = i ^ j;
    int m = n % 5, o = n % 7, p = n % 11, q = n % 13;
    double sub = n == 0 ? far(10000, (long)(e + f)) : heavy(n - 1);
    return sub + a - b + c * d - e / (f + 1.0) + (double)(g + h - i + j - k + l) + m + o * p - q;
}

static unsigned sum(const unsigned char *p, size_t n) {
    unsigned s = 0;
    for (size_t i = 0; i < n; i++) s = s * 33 + p[i];
    return s;
}

int main(void) {
    // A shallow migration first (the runtime sizes its unwind area for it), then heap growth, then deeper
    // migrations that need a bigger unwind area: the heap grown in between must survive all of it.
    far(0, 1);
    size_t n = 3u << 20;
    unsigned char *buf = malloc(n);
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)(i * 7 + (i >> 12));
    unsigned before = sum(buf, n);
    long r = down(10000, 1);
    printf("down: %ld\n", r);
    double h = heavy(10000);
    printf("heavy: %.3f\n", h);
    unsigned char *more = malloc(n);
    for (size_t i = 0; i < n; i++) more[i] = buf[n - 1 - i];
    far(1, sum(more, n));
    printf("heap %s\n", before == sum(buf, n) ? "intact" : "CORRUPTED");
    free(more);
    free(buf);
    return 0;
}
