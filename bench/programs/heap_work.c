// Pre-copy's case (README "Pre-copy"): fills HEAP_MB of heap, then works a while before its first hop, as a program
// that serves requests would: ITERS steps, each reading 1 KiB of the heap and making a WASI call (clock_gettime),
// one page in TOUCH_EVERY steps changed. Then hops to "edge" and back HOPS times (one byte of a tenth of the pages
// changed before each) and prints a checksum of the heap. With a fifth argument "timed" it first prints how long
// the work took (ms), which the bench compares with pre-copy on and off.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kafu.h"

static unsigned char *heap;
static size_t heap_len, pages;

KAFU_DEST(touch, "edge")
KAFU_EXPORT(touch)
void touch(unsigned round) {
  for (size_t p = round % 10; p < pages; p += 10) heap[p * 65536 + (round * 64) % 65536] += 1;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  int mb = argc > 1 ? atoi(argv[1]) : 16;
  long iters = argc > 2 ? atol(argv[2]) : 100000;
  long touch_every = argc > 3 ? atol(argv[3]) : 1000;
  int hops = argc > 4 ? atoi(argv[4]) : 1;
  int timed = argc > 5 && strcmp(argv[5], "timed") == 0;
  heap_len = (size_t)mb << 20;
  pages = heap_len / 65536;
  heap = malloc(heap_len);
  for (size_t i = 0; i < heap_len; i++) heap[i] = (unsigned char)(i * 2654435761u >> 24);
  unsigned acc = 0;
  double t0 = now_ms();
  for (long it = 0; it < iters; it++) {
    const unsigned char *p = heap + ((size_t)it * 1024) % heap_len;
    for (int k = 0; k < 1024; k += 4) acc += p[k];
    if (touch_every > 0 && it % touch_every == 0) {
      size_t page = ((size_t)(it / touch_every) * 2654435761u) % pages;
      heap[page * 65536 + (size_t)it % 65536] += (unsigned char)acc | 1;
    }
    (void)now_ms(); // the WASI call a serving program makes now and then
  }
  if (timed) printf("work %.1f ms\n", now_ms() - t0);
  for (int r = 0; r < hops; r++) touch((unsigned)r);
  unsigned sum = acc;
  for (size_t i = 0; i < heap_len; i += 512) sum = sum * 31 + heap[i];
  printf("%u\n", sum);
  return 0;
}
