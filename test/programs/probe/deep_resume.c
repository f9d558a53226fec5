// Recursion as deep as argv[1] (directly, or through a function pointer with argv[2] "pointer"), with a system call at
// the bottom: built with --kafu-syscall-points and migrated after every WASI call, every level is unwound, carried
// and resumed. On resume a level must take no more engine stack than it does in a plain run, so a depth that fits the
// plain run fits the migrating one.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long leaf(long n, long acc) {
    printf("bottom at %ld, acc=%ld\n", n, acc);
    fflush(stdout);
    return acc ^ 0x5a5a;
}

long down(long n, long acc);
static long (*volatile down_ptr)(long, long) = down;
static int through_pointer;

__attribute__((noinline)) long down(long n, long acc) {
    long mine = acc * 31 + n;               // lives across the call below
    char pad[16];                           // a C stack frame too
    pad[n % 16] = (char)n;
    long r = n == 0 ? leaf(n, mine) : through_pointer ? down_ptr(n - 1, mine % 1000003) : down(n - 1, mine % 1000003);
    return r + mine % 7 + pad[n % 16] % 3;
}

int main(int argc, char **argv) {
    long depth = argc > 1 ? atol(argv[1]) : 1000;
    through_pointer = argc > 2 && strcmp(argv[2], "pointer") == 0;
    printf("down: %ld\n", down(depth, 1));
    return 0;
}
