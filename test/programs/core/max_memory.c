// Fills memory up to the module's maximum, then calls a KAFU_DEST function: the migration cannot get room for
// the unwound stack, so it must be refused cleanly before suspending.
#include <stdio.h>
#include <stdlib.h>
#include "kafu.h"
KAFU_DEST(f, "edge")
KAFU_EXPORT(f)
void f(void) { printf("on b\n"); }
int main(void) { void *p; while ((p = malloc(1 << 16))) {} printf("heap full\n"); fflush(stdout); f(); return 0; }
