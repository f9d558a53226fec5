// printf-like wrappers (va_list on the stack) around system calls, and alloca/VLAs live across them.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <alloca.h>

static int logf_(const char *tag, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = printf("[%s] ", tag);
    n += vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
    return n;
}

static long sum_va(int count, ...) {
    va_list ap;
    va_start(ap, count);
    long s = 0;
    for (int i = 0; i < count; i++) {
        long v = va_arg(ap, long);
        logf_("sum", "%d: %ld\n", i, v);
        s += v;
    }
    va_end(ap);
    return s;
}

static unsigned vla(int n) {
    char buf[n];                      // a VLA across printf calls
    char *more = alloca(n * 2);       // and alloca
    for (int i = 0; i < n; i++) buf[i] = (char)(i * 3);
    for (int i = 0; i < n * 2; i++) more[i] = (char)(i ^ 0x55);
    unsigned h = 0;
    for (int i = 0; i < n; i++) {
        if (i % 16 == 0) logf_("vla", "at %d of %d, %s\n", i, n, i % 32 ? "odd" : "even");
        h = h * 31 + (unsigned char)buf[i] + (unsigned char)more[2 * i];
    }
    return h;
}

int main(void) {
    logf_("main", "%s %d %ld %.3f %c %5.2s|\n", "start", 42, 1234567890123L, 3.14159, 'x', "abc");
    printf("sum %ld\n", sum_va(5, 1L, 20L, 300L, 4000L, 50000L));
    printf("vla %u\n", vla(100));
    printf("vla %u\n", vla(1000));
    return 0;
}
