// Waits on edge for a long time (argv[1] seconds), printing a marker first: tests kill a node meanwhile.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "kafu.h"

KAFU_EXPORT(wait_on_edge) int wait_on_edge(int seconds);

int main(int argc, char **argv) {
    int seconds = argc > 1 ? atoi(argv[1]) : 30;
    printf("cloud: start\n");
    fflush(stdout);
    int r = wait_on_edge(seconds);
    printf("cloud: edge returned %d\n", r);
    return 0;
}

KAFU_DEST(wait_on_edge, "edge")
int wait_on_edge(int seconds) {
    printf("edge: waiting\n");
    fflush(stdout);
    struct timespec ts = {seconds, 0};
    nanosleep(&ts, NULL);
    return seconds;
}
