// Migration downtime against heap size: fills HEAP_MB of heap, then hops to "edge" and back HOPS times. Before each
// hop DIRTY percent of the heap's 64 KiB pages get one byte changed (on cloud before the call, on edge inside it),
// so each hop carries that many changed pages. Prints a checksum of the heap at the end.
#include <stdio.h>
#include <stdlib.h>
#include "kafu.h"

static unsigned char *heap;
static size_t heap_len;
static size_t step;

static void dirty(unsigned round) {
  for (size_t p = round % step; p * 65536 < heap_len; p += step) heap[p * 65536 + (round * 64) % 65536] += 1;
}

KAFU_DEST(touch, "edge")
KAFU_EXPORT(touch)
void touch(unsigned round) { dirty(2 * round + 1); }

int main(int argc, char **argv) {
  int mb = argc > 1 ? atoi(argv[1]) : 16, hops = argc > 2 ? atoi(argv[2]) : 10;
  int pct = argc > 3 ? atoi(argv[3]) : 100;
  step = pct > 0 && pct <= 100 ? (size_t)(100 / pct) : 1;
  heap_len = (size_t)mb << 20;
  heap = malloc(heap_len);
  for (size_t i = 0; i < heap_len; i++) heap[i] = (unsigned char)(i * 2654435761u >> 24);
  for (int r = 0; r < hops; r++) {
    dirty(2 * (unsigned)r);
    touch((unsigned)r);
  }
  unsigned sum = 0;
  for (size_t i = 0; i < heap_len; i += 4096) sum = sum * 31 + heap[i];
  printf("%u\n", sum);
  return 0;
}
