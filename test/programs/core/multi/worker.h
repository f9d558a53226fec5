// Shared declarations of the multi-file program. The KAFU_DEST of helper() sits in this header, so both object
// files carry the same record: the instrumenter must accept the duplicate.
#ifndef WORKER_H
#define WORKER_H
#include "kafu.h"

KAFU_EXPORT(work) int work(int n);
KAFU_EXPORT(report) void report(const char *what, int value);
KAFU_EXPORT(helper) int helper(int x);
KAFU_DEST(helper, "edge")

extern int total_reports;

#endif
