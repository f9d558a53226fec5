// Multi-file program, file 1 of 2: main and report() (on "cloud").
#include <stdio.h>
#include "worker.h"

int total_reports;

int main(void) {
    int r = work(6);
    printf("main: work(6)=%d, reports=%d, helper(2)=%d\n", r, total_reports, helper(2));
    return 0;
}

KAFU_DEST(report, "cloud")
void report(const char *what, int value) {
    total_reports++;
    printf("report #%d: %s = %d\n", total_reports, what, value);
}
