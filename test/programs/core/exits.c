// Exit codes after migrating, and migrations outside main. argv[1] picks the case:
//   "return7": hop to edge and back, then return 7 from main on cloud;
//   "exit5":   the function on edge calls exit(5): the program ends there with 5 (stdio flushed by exit).
// Either way a constructor migrates before main runs, and an atexit handler calls farewell() (on cloud): from
// cloud it stays, from edge (exit5) it moves to cloud and back before the program ends on edge.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kafu.h"

KAFU_EXPORT(on_edge) int on_edge(int mode);
KAFU_EXPORT(greet) int greet(int x);
KAFU_EXPORT(farewell) void farewell(void);

static int greeted;

__attribute__((constructor)) static void init(void) { greeted = greet(20); }

static void at_exit(void) {
    farewell();
    printf("atexit done\n");
}

int main(int argc, char **argv) {
    atexit(at_exit);
    int mode = argc > 1 && strcmp(argv[1], "exit5") == 0;
    printf("cloud: mode %d, greeted %d\n", mode, greeted);
    int r = on_edge(mode);
    printf("cloud: back with %d\n", r);
    return 7;
}

KAFU_DEST(on_edge, "edge")
int on_edge(int mode) {
    printf("edge: mode %d", mode);  // left in stdout's buffer: exit() must flush it
    if (mode) exit(5);
    printf("\n");
    return 42;
}

KAFU_DEST(greet, "edge")
int greet(int x) {
    printf("greet before main\n");  // a side effect: otherwise the compiler may run the constructor at build time
    return x + 1;
}

KAFU_DEST(farewell, "cloud")
void farewell(void) { printf("\nfarewell (greeted %d)\n", greeted); }
