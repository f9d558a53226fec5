// The fault-injection program (test/support/faults.ts): argv[1] rounds, each a numbered line on cloud, a visit to
// edge that prints a numbered line and carries 256 KiB of changing memory, and argv[2] ms of sleep on each node.
// Every line is flushed as printed, so a harness can tell which lines arrived, how often, and in what order.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kafu.h"

static unsigned char heap[256 * 1024];

static void nap(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

KAFU_EXPORT(on_edge) unsigned on_edge(int round, int ms);

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 10;
    int ms = argc > 2 ? atoi(argv[2]) : 100;
    unsigned sum = 0;
    for (int r = 0; r < rounds; r++) {
        printf("line %d cloud\n", 2 * r);
        fflush(stdout);
        memset(heap, r & 0xff, sizeof heap / 2);
        nap(ms);
        sum += on_edge(r, ms);
    }
    printf("done %u\n", sum);
    return 0;
}

KAFU_DEST(on_edge, "edge")
unsigned on_edge(int round, int ms) {
    printf("line %d edge\n", 2 * round + 1);
    fflush(stdout);
    memset(heap + sizeof heap / 2, (round * 7) & 0xff, sizeof heap / 2);
    nap(ms);
    unsigned s = 0;
    for (size_t i = 0; i < sizeof heap; i += 4096) s += heap[i];
    return s;
}
