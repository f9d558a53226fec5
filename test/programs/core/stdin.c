// Reads standard input on both nodes: a line on cloud, the rest on edge (the stdio buffer travels too).
#include <stdio.h>
#include <string.h>
#include "kafu.h"

KAFU_DEST(rest, "edge")
KAFU_EXPORT(rest)
int rest(void) {
  char line[256];
  int n = 0;
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    printf("edge read: %s\n", line);
    n++;
  }
  return n;
}

int main(void) {
  char line[256];
  if (!fgets(line, sizeof line, stdin)) {
    printf("no input\n");
    return 1;
  }
  line[strcspn(line, "\n")] = 0;
  printf("cloud read: %s\n", line);
  printf("lines on edge: %d\n", rest());
  return 0;
}
