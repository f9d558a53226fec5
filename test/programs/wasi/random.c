// random_get: fills exactly the bytes asked (also more than one getRandomValues call's 65536), never the same
// twice, 0 bytes is fine, a buffer outside memory is EFAULT; getentropy's 256-byte limit.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

static unsigned char big[200000];

int main(void) {
  unsigned char a[64], b[64];
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  CHECKE("random_get 64", __wasi_random_get(a, sizeof a));
  CHECKE("random_get 64 again", __wasi_random_get(b, sizeof b));
  printf("two draws differ: %s\n", memcmp(a, b, sizeof a) ? "yes" : "no");
  int zeros = 0;
  for (int i = 0; i < 64; i++) zeros += a[i] == 0;
  printf("at most 8 zero bytes of 64: %s\n", zeros <= 8 ? "yes" : "no");
  CHECKE("random_get 0 bytes", __wasi_random_get(a, 0));

  // Only the bytes asked for change.
  unsigned char guard[32];
  memset(guard, 0xAA, sizeof guard);
  CHECKE("random_get middle 16", __wasi_random_get(guard + 8, 16));
  int kept = 1;
  for (int i = 0; i < 8; i++) kept &= guard[i] == 0xAA && guard[24 + i] == 0xAA;
  printf("bytes around untouched: %s\n", kept ? "yes" : "no");

  CHECKE("random_get 200000", __wasi_random_get(big, sizeof big));
  // Every 4 KiB block of the big buffer holds random data (not left zero past the first 64 KiB).
  int empty_blocks = 0;
  for (size_t off = 0; off < sizeof big; off += 4096) {
    int nz = 0;
    for (size_t i = off; i < off + 4096 && i < sizeof big; i++) nz += big[i] != 0;
    if (nz < 3000) empty_blocks++;
  }
  printf("blocks not random: %d\n", empty_blocks);
  CHECKE("random_get out of bounds", __wasi_random_get((uint8_t *)0xfffffff0, 100));

  CHECK("getentropy 256", getentropy(a, 0) == 0 && getentropy(big, 256) == 0 ? 0 : -1);
  CHECK("getentropy 257", getentropy(big, 257));
  uint32_t x = arc4random(), y = arc4random();
  printf("arc4random varies: %s\n", x != y ? "yes" : "no");
  return 0;
}
