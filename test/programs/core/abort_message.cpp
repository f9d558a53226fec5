#include <vector>
#include <cstdio>
int main() { std::vector<int> v(2); std::printf("before\n"); std::fflush(stdout); return v.at(5); }
