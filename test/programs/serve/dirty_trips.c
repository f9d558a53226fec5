// A heap of dense, sparse and zero pages that goes to edge and back ROUNDS times; before each hop the side it is on
// changes some pages (a few words, a whole page, a page made zero, a zero page filled, new pages malloc'd) and
// passes the heap's hash along: the other side hashes what it resumed with and says MISMATCH where they differ. So
// a delta computed against anything but the bytes the receiver holds shows, on any hop, in either direction.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kafu.h"

#define PAGES 160
#define ROUNDS 6
static uint32_t *heap;
static uint32_t *more[ROUNDS * 2];
static int n_more;

static uint32_t hash(void) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < PAGES * 16384; i++) h = (h ^ heap[i]) * 16777619u;
    for (int m = 0; m < n_more; m++)
        for (size_t i = 0; i < 16384; i++) h = (h ^ more[m][i]) * 16777619u;
    return h;
}

static void change(unsigned r) {
    uint32_t *p = heap + ((r * 7) % PAGES) * 16384;
    for (size_t w = r % 13; w < 16384; w += 501) p[w] += r + 1;                             // a few words
    p = heap + ((r * 11 + 3) % PAGES) * 16384;
    for (size_t w = 0; w < 16384; w++) p[w] = (uint32_t)(w * 2654435761u) ^ r;               // a whole page
    memset(heap + ((r * 5 + 1) % PAGES) * 16384, 0, 65536);                                  // a page made zero
    p = heap + ((r * 13 + 2) % PAGES) * 16384;
    for (size_t w = 0; w < 16384; w += 3) p[w] = r * 40503u + (uint32_t)w;                  // a page filled
    more[n_more] = aligned_alloc(65536, 65536);                                              // memory that grows
    for (size_t w = 0; w < 16384; w++) more[n_more][w] = (uint32_t)(w + r * 977u);
    n_more++;
}

KAFU_EXPORT(on_edge) uint32_t on_edge(unsigned r, uint32_t sent);

int main(void) {
    heap = aligned_alloc(65536, PAGES * 65536);
    for (size_t p = 0; p < PAGES; p++) {
        uint32_t *page = heap + p * 16384;
        if (p % 8 == 7) memset(page, 0, 65536);
        else if (p % 8 == 6) { memset(page, 0, 65536); for (size_t w = 0; w < 16384; w += 97) page[w] = (uint32_t)(p + w + 1); }
        else for (size_t w = 0; w < 16384; w++) page[w] = (uint32_t)(p * 2654435761u + w * 40503u);
    }
    for (unsigned r = 0; r < ROUNDS; r++) {
        change(2 * r);
        uint32_t sent = hash();
        uint32_t back = on_edge(r, sent);
        uint32_t here = hash();
        printf("round %u: %s\n", r, here == back ? "ok" : "MISMATCH on the way back");
    }
    printf("final: %08x\n", hash());
    return 0;
}

KAFU_DEST(on_edge, "edge")
uint32_t on_edge(unsigned r, uint32_t sent) {
    uint32_t got = hash();
    printf("edge %u: %s\n", r, got == sent ? "ok" : "MISMATCH on the way there");
    fflush(stdout);
    change(2 * r + 1);
    return hash();
}
