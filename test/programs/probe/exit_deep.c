// exit(3) from deep in the stack after migrations, with atexit handlers that print and a stdio buffer not flushed.
#include <stdio.h>
#include <stdlib.h>

static void bye1(void) { printf("bye1\n"); }
static void bye2(void) { printf("bye2\n"); fflush(stdout); }

static int down(int n) {
    if (n % 10 == 0) { printf("down %d\n", n); fflush(stdout); }
    if (n == 0) {
        printf("leaving with 3 (unflushed)");
        exit(3);
    }
    return down(n - 1) + 1;
}

int main(int argc, char **argv) {
    atexit(bye1);
    atexit(bye2);
    if (argc > 1) return 7 + printf("early return\n") * 0;
    return down(40);
}
