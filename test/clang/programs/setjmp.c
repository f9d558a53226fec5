#include <stdio.h>
#include <setjmp.h>
static jmp_buf jb;
static void g(void) { longjmp(jb, 7); }
int main(void) { int r = setjmp(jb); if (r == 0) g(); printf("r=%d\n", r); return 0; }
