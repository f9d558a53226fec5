// argv, environment, clocks and rand() across migrations.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    const char *h = getenv("PROBE");
    printf("PROBE=%s\n", h ? h : "(unset)");
    printf("NOPE=%s\n", getenv("NOPE") ? "set" : "(unset)");
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int backwards = 0;
    for (int i = 0; i < 20; i++) {
        printf("tick %d\n", i);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (b.tv_sec < a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec < a.tv_nsec)) backwards++;
        a = b;
    }
    printf("monotonic went back %d times\n", backwards);
    time_t t = time(NULL);
    printf("time plausible: %d\n", t > 1600000000);
    srand(42);
    int r1 = rand();
    printf("rand %d\n", r1);
    int r2 = rand();
    printf("rand %d\n", r2);
    return 0;
}
