// Output from every node, interleaved with migrations, for app.output: first_node: stdout (fully buffered, so
// partial lines cross migrations inside the buffer) and stderr (unbuffered) from cloud, edge and back, nested.
// argv[1] = rounds. With "exit9" as argv[2], the last round ends the program on edge with exit(9).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kafu.h"

KAFU_EXPORT(on_edge) int on_edge(int round, int last);
KAFU_EXPORT(back_home) int back_home(int round);

static int exit_on_edge;

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 3;
    exit_on_edge = argc > 2 && strcmp(argv[2], "exit9") == 0;
    int sum = 0;
    for (int i = 0; i < rounds; i++) {
        printf("cloud: round %d begins", i);   // finished on edge's side of the buffer
        fprintf(stderr, "cloud stderr %d\n", i);
        sum += on_edge(i, i == rounds - 1);
        printf("cloud: round %d sum %d\n", i, sum);
        fflush(stdout);
    }
    printf("cloud: done, sum %d\n", sum);
    return 0;
}

KAFU_DEST(on_edge, "edge")
int on_edge(int round, int last) {
    printf(" ... edge continues round %d\n", round);
    fflush(stdout);
    fprintf(stderr, "edge stderr %d\n", round);
    for (int k = 0; k < 50; k++) printf("edge line %d.%d %s\n", round, k, "padding padding padding padding");
    int r = back_home(round);
    printf("edge: back_home gave %d\n", r);
    if (last && exit_on_edge) {
        printf("edge: exiting with 9\n");
        exit(9);
    }
    return r + round;
}

KAFU_DEST(back_home, "cloud")
int back_home(int round) {
    printf("cloud (nested): round %d\n", round);
    fprintf(stderr, "cloud nested stderr %d\n", round);
    return round * 10;
}
