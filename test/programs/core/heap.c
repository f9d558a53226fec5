// Heap-heavy: about 50 MB of malloc'd linked structures (a list of records, each owning a separately allocated
// payload). The checksum is recomputed on each side of every hop; each hop also changes the data, so a stale or
// partial memory copy shows up as a wrong checksum. Build with -O2.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "kafu.h"

struct rec {
    struct rec *next;
    uint32_t id;
    uint32_t len;
    uint32_t *payload;
};

KAFU_EXPORT(visit_edge) uint64_t visit_edge(struct rec *head, int round);

static uint64_t checksum(const struct rec *r) {
    uint64_t h = 1469598103934665603ull;
    for (; r; r = r->next) {
        h = (h ^ r->id) * 1099511628211ull;
        for (uint32_t i = 0; i < r->len; i += 7) h = (h ^ r->payload[i]) * 1099511628211ull;
        h ^= r->payload[r->len - 1];
    }
    return h;
}

static void touch(struct rec *r, uint32_t salt) {
    for (; r; r = r->next) r->payload[r->id % r->len] += salt;
}

int main(void) {
    struct rec *head = NULL;
    size_t bytes = 0;
    uint32_t seed = 12345;
    for (uint32_t id = 0; bytes < 50u * 1024 * 1024; id++) {
        struct rec *r = malloc(sizeof *r);
        r->id = id;
        r->len = 200 + (seed >> 24);
        r->payload = malloc(r->len * sizeof(uint32_t));
        for (uint32_t i = 0; i < r->len; i++) {
            seed = seed * 1103515245u + 12345u;
            r->payload[i] = seed;
        }
        r->next = head;
        head = r;
        bytes += sizeof *r + r->len * sizeof(uint32_t);
    }
    printf("built %zu bytes\n", bytes);
    for (int round = 0; round < 3; round++) {
        uint64_t before = checksum(head);
        uint64_t seen = visit_edge(head, round);
        uint64_t after = checksum(head);
        printf("round %d: cloud before %016llx, edge saw %016llx (%s), cloud after %016llx\n", round,
               (unsigned long long)before, (unsigned long long)seen, seen == before ? "same" : "DIFFERENT",
               (unsigned long long)after);
        touch(head, 1000u + (uint32_t)round);
    }
    printf("final %016llx\n", (unsigned long long)checksum(head));
    return 0;
}

KAFU_DEST(visit_edge, "edge")
uint64_t visit_edge(struct rec *head, int round) {
    uint64_t seen = checksum(head);
    touch(head, (uint32_t)round + 1);
    return seen;
}
