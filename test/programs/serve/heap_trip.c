// A heap of dense, sparse and zero pages that visits edge and comes back: each node prints a hash of the heap, so
// a resume that lost or misplaced any page prints another number than the node it came from.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kafu.h"

#define PAGES 24
static uint32_t *heap;

static uint32_t hash(void) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < PAGES * 16384; i++) h = (h ^ heap[i]) * 16777619u;
    return h;
}

KAFU_EXPORT(on_edge) uint32_t on_edge(void);

int main(void) {
    // (On 64 KiB boundaries, so that each of its pages is one page of linear memory.)
    heap = aligned_alloc(65536, PAGES * 65536);
    memset(heap, 0, PAGES * 65536);
    for (size_t p = 0; p < PAGES; p++) {
        uint32_t *page = heap + p * 16384;
        if (p % 3 == 0) for (size_t w = 0; w < 16384; w++) page[w] = (uint32_t)(p * 2654435761u + w * 40503u);  // dense
        else if (p % 3 == 1) for (size_t w = 0; w < 16384; w += 97) page[w] = (uint32_t)(p + w + 1);           // sparse
    }
    printf("cloud: %08x\n", hash());
    fflush(stdout);
    uint32_t there = on_edge();
    heap[5] ^= there;
    printf("cloud again: %08x\n", hash());
    return 0;
}

KAFU_DEST(on_edge, "edge")
uint32_t on_edge(void) {
    uint32_t h = hash();
    printf("edge: %08x\n", h);
    fflush(stdout);
    heap[16384 * 4 + 7] = 42;  // a change the way back carries as a delta
    return h;
}
