// Migration downtime against heap size: fills HEAP_MB of heap, then hops to "edge" and back HOPS times,
// checking the heap after each hop.
#include <stdio.h>
#include <stdlib.h>
#include "kafu.h"

static unsigned char *heap;
static size_t heap_len;

KAFU_DEST(touch, "edge")
KAFU_EXPORT(touch)
unsigned touch(unsigned round) {
  unsigned sum = 0;
  for (size_t i = 0; i < heap_len; i += 4096) { heap[i] += (unsigned char)round; sum += heap[i]; }
  return sum;
}

int main(int argc, char **argv) {
  int mb = argc > 1 ? atoi(argv[1]) : 16, hops = argc > 2 ? atoi(argv[2]) : 10;
  heap_len = (size_t)mb << 20;
  heap = malloc(heap_len);
  for (size_t i = 0; i < heap_len; i++) heap[i] = (unsigned char)(i * 2654435761u >> 24);
  unsigned total = 0;
  for (int r = 0; r < hops; r++) total += touch((unsigned)r);
  printf("%u\n", total);
  return 0;
}
