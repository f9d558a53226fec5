#include <stdio.h>
#include "kafu.h"
KAFU_DEST(f, "edge")
KAFU_EXPORT(f)
static void f(void) { printf("edge\n"); }
int main(void) { f(); return 0; }
