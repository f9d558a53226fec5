// Multi-file program, file 2 of 2: work() (on "edge"), which reports back to cloud, and helper() (on "edge",
// KAFU_DEST in worker.h).
#include "worker.h"

static int squares[16];

KAFU_DEST(work, "edge")
int work(int n) {
    int sum = 0;
    for (int i = 0; i < n; i++) {
        squares[i] = helper(i);
        sum += squares[i];
    }
    report("sum", sum);
    return sum + squares[n - 1];
}

int helper(int x) { return x * x; }
