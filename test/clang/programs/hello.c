// The smallest kafu program: one migration point.
#include <stdio.h>
#include "kafu.h"

void f(void);

int main(void) {
  printf("Hello, from cloud!\n");
  f();
  return 0;
}

KAFU_DEST(f, "edge")
KAFU_EXPORT(f)
void f(void) { printf("Hello, from edge!\n"); }
