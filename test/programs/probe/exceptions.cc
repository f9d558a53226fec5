// A C++ exception thrown across frames that made system calls (migration points) before the throw.
#include <cstdio>
#include <stdexcept>
#include <string>

static int depth(int n) {
    std::printf("depth %d\n", n);
    if (n == 0) throw std::runtime_error("bottom reached");
    return depth(n - 1) + 1;
}

int main() {
    try {
        depth(5);
    } catch (const std::exception &e) {
        std::printf("caught: %s\n", e.what());
    }
    std::printf("after\n");
    return 0;
}
