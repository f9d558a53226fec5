// Waits on edge for argv[1] seconds and prints after it woke (tests kill the first node meanwhile, so that output
// cannot reach it); with argv[2] "exit" the program ends on edge (exit code 7) instead of returning to cloud.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kafu.h"

KAFU_EXPORT(wait_on_edge) int wait_on_edge(int seconds, int end_here);

int main(int argc, char **argv) {
    int seconds = argc > 1 ? atoi(argv[1]) : 4;
    int end_here = argc > 2 && strcmp(argv[2], "exit") == 0;
    printf("cloud: start\n");
    fflush(stdout);
    int r = wait_on_edge(seconds, end_here);
    printf("cloud: edge returned %d\n", r);
    return 0;
}

KAFU_DEST(wait_on_edge, "edge")
int wait_on_edge(int seconds, int end_here) {
    printf("edge: waiting\n");
    fflush(stdout);
    struct timespec ts = {seconds, 0};
    nanosleep(&ts, NULL);
    for (int i = 0; i < 3; i++) printf("edge: woke after %d s, line %d\n", seconds, i);
    fflush(stdout);
    if (end_here) exit(7);
    return seconds;
}
