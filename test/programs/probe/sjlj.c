// setjmp/longjmp across system calls (migration points).
#include <setjmp.h>
#include <stdio.h>

static jmp_buf env;
static void deeper(int n) {
    printf("deeper %d\n", n);
    if (n == 0) longjmp(env, 42);
    deeper(n - 1);
}

int main(void) {
    int r = setjmp(env);
    if (r == 0) {
        printf("first pass\n");
        deeper(3);
    }
    printf("longjmp returned %d\n", r);
    return 0;
}
