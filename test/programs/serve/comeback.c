// Visits edge, then stays on cloud for argv[1] seconds (a test restarts edge meanwhile), then visits edge again.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "kafu.h"

KAFU_EXPORT(on_edge) int on_edge(int visit);

int main(int argc, char **argv) {
    int seconds = argc > 1 ? atoi(argv[1]) : 3;
    int total = on_edge(1);
    printf("cloud: sleeping\n");
    fflush(stdout);
    struct timespec ts = {seconds, 0};
    nanosleep(&ts, NULL);
    total += on_edge(2);
    printf("cloud: total %d\n", total);
    return 0;
}

KAFU_DEST(on_edge, "edge")
int on_edge(int visit) {
    printf("edge: visit %d\n", visit);
    return visit * 10;
}
