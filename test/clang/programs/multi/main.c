// Built as two objects (-c) and linked separately; needs -Iinc, -DGREETING and -lm.
#include <stdio.h>
#include "config.h"
#include "kafu.h"

double scaled(int x);
void edge_part(void);

int main(void) {
  printf("%s %.1f\n", GREETING, scaled(CONFIG_N));
  edge_part();
  return 0;
}

KAFU_DEST(edge_part, "edge")
KAFU_EXPORT(edge_part)
void edge_part(void) { printf("edge %d\n", CONFIG_N); }
