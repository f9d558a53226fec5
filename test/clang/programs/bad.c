// Does not compile: the test checks the diagnostic's file:line.
#include <stdio.h>
int main(void) {
  int x = 1
  return x;
}
