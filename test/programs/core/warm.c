// Warm instances (a node resumes the program in the instance it left there, writing only the pages a delta
// changed): a heap whose pages change a little, become zero, and grow between hops, over three nodes, so that
// every way an image can differ from what a parked instance holds is taken. Each side prints checksums.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kafu.h"

#define MB (1u << 20)
static unsigned char *big;
static size_t big_len = 6 * MB;
static unsigned char *kept[8];

static unsigned sum(const unsigned char *p, size_t n) {
  unsigned h = 2166136261u;
  for (size_t i = 0; i < n; i += 61) h = (h ^ p[i]) * 16777619u;
  return h;
}

KAFU_DEST(on_edge, "edge")
KAFU_EXPORT(on_edge)
void on_edge(int round) {
  for (size_t i = (size_t)round * 4096; i < big_len; i += 3 * 65536) big[i] ^= (unsigned char)(round + 1);
  memset(big + (size_t)(round % 4) * MB, 0, MB / 2);  // pages that become zero
  size_t n = (size_t)MB * (round + 1);
  unsigned char *more = malloc(n);                   // memory grows
  memset(more, round + 7, n);
  printf("edge %d: %08x %08x\n", round, sum(big, big_len), sum(more, n));
  fflush(stdout);
  if (round % 2) free(more);
  else kept[round] = more;
}

KAFU_DEST(on_fog, "fog")
KAFU_EXPORT(on_fog)
void on_fog(int round) {
  memset(big + (size_t)round * 65536, 0xA5, 65536 * 2);
  if (round > 1 && kept[round - 2]) memset(kept[round - 2], 0, MB);  // pages that become zero after growing
  printf("fog %d: %08x\n", round, sum(big, big_len));
  fflush(stdout);
}

int main(void) {
  big = malloc(big_len);
  for (size_t i = 0; i < big_len; i++) big[i] = (unsigned char)(i * 2654435761u >> 24);
  for (int r = 0; r < 6; r++) {
    on_edge(r);
    memset(big + (size_t)r * MB / 2, r, 4096 * 5);
    printf("cloud %d: %08x\n", r, sum(big, big_len));
    fflush(stdout);
    on_fog(r);
  }
  for (int r = 0; r < 8; r += 2) if (kept[r]) printf("kept %d: %08x\n", r, sum(kept[r], MB));
  return 0;
}
