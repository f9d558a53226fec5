// In the style of the original Kafu's examples/basic: its include of <spectest.h>, its node names, its Makefile.
#include "kafu.h"
#include <stdio.h>
#include <spectest.h>

void greet_cloud(void);
void greet_edge(void);

int main(void) {
  greet_cloud();
  return 0;
}

KAFU_DEST(greet_cloud, "cloud1")
KAFU_EXPORT(greet_cloud)
void greet_cloud(void) {
  printf("greetings from cloud1\n");
  fflush(stdout);
  greet_edge();
}

KAFU_DEST(greet_edge, "edge1")
KAFU_EXPORT(greet_edge)
void greet_edge(void) {
  printf("greetings from edge1\n");
  fflush(stdout);
}
