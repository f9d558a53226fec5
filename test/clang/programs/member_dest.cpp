#include <cstdio>
#include "kafu.h"
struct Planner { int plan(int x); };
KAFU_DEST(Planner::plan, "edge")
int Planner::plan(int x) { return x + 1; }
int main() { Planner p; std::printf("%d\n", p.plan(1)); return 0; }
