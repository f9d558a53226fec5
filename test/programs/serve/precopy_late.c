// Pre-copy tests (test/serve/precopy.test.ts): fills a heap of HEAP_MB (2 MiB unless given), works ITERS steps with a WASI call each (pre-copy
// rounds run there), prints "cloud: waiting", sleeps SECONDS on cloud (a test attacks or restarts edge meanwhile),
// then visits edge, which sums the heap and a zero array that nothing wrote (a hop resumed over memory holding
// anything but the program's image shows there), twice. Arguments: SECONDS ITERS [ZERO_INDEX or -] [HEAP_MB] [grow].
// With "grow" it first sleeps 500 times 1 ms before the heap exists (pre-copy passes over the small memory), and
// then changes one byte of the heap in a thousand steps only.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kafu.h"

static size_t heap_bytes = 2u << 20;
static unsigned char *heap;
static unsigned char zeros[512 * 1024];

KAFU_DEST(on_edge, "edge")
KAFU_EXPORT(on_edge)
unsigned on_edge(int visit) {
  unsigned sum = 0, z = 0;
  for (size_t i = 0; i < heap_bytes; i += 64) sum = sum * 31 + heap[i];
  for (size_t i = 0; i < sizeof zeros; i++) z |= zeros[i];
  printf("edge: visit %d, heap %u, zeros %u\n", visit, sum, z);
  heap[visit * 70000] += 1;
  return sum;
}

int main(int argc, char **argv) {
  int seconds = argc > 1 ? atoi(argv[1]) : 0;
  long iters = argc > 2 ? atol(argv[2]) : 1000;
  if (argc > 3 && argv[3][0] != '-') zeros[atoi(argv[3])] = 1; // (never in the tests: keeps the array in memory, not folded away)
  if (argc > 4) heap_bytes = (size_t)atoi(argv[4]) << 20;
  int grow = argc > 5 && strcmp(argv[5], "grow") == 0;
  struct timespec t;
  struct timespec ms = {0, 1000000};
  if (grow) for (int i = 0; i < 500; i++) nanosleep(&ms, NULL); // ~0.5 s, however loaded the machine
  heap = malloc(heap_bytes);
  for (size_t i = 0; i < heap_bytes; i++) heap[i] = (unsigned char)(i * 2654435761u >> 24);
  for (long it = 0; it < iters; it++) {
    if (!grow || it % 1000 == 0) heap[((size_t)it * 4099) % heap_bytes] += 1;
    clock_gettime(CLOCK_MONOTONIC, &t);
  }
  printf("cloud: waiting\n");
  fflush(stdout);
  struct timespec ts = {seconds, 0};
  nanosleep(&ts, NULL);
  unsigned total = on_edge(1);
  heap[12345] ^= 0x5a;
  total += on_edge(2);
  printf("cloud: total %u\n", total);
  return 0;
}
