// 1 000 round trips: every call of hop() moves the program to "edge" and its return moves it back to "cloud"
// (2 000 migrations). The running checksum depends on every value computed on both sides; a file opened before
// the loop stays open across all migrations and gets a line every 100 iterations (written on the edge).
#include <stdint.h>
#include <stdio.h>
#include "kafu.h"

KAFU_EXPORT(hop) uint32_t hop(uint32_t acc, int i, FILE *log);

static uint32_t mix(uint32_t h, uint32_t v) {
    h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
    return h;
}

int main(void) {
    FILE *log = fopen("/loop.log", "w");
    if (!log) { perror("fopen"); return 1; }
    uint32_t acc = 2166136261u;
    uint32_t cloud_side = 0;
    for (int i = 0; i < 1000; i++) {
        cloud_side = mix(cloud_side, (uint32_t)i * 31u);
        acc = hop(acc, i, log);
    }
    fprintf(log, "done\n");
    fclose(log);
    printf("checksum=%08x cloud_side=%08x\n", acc, cloud_side);
    return 0;
}

KAFU_DEST(hop, "edge")
uint32_t hop(uint32_t acc, int i, FILE *log) {
    if (i % 100 == 0) fprintf(log, "iteration %d acc=%08x\n", i, acc);
    return mix(acc, (uint32_t)i);
}
