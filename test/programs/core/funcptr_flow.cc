// C++ counterpart of funcptr_flow.c: a KAFU_DEST function reached through a virtual call, a std::function holding
// it, and a std::function holding a lambda that calls it. kafu clang++ finds C++ function addresses (vtables,
// std::function's invokers) by linking twice (src/instrument/function-addresses.ts) and instruments only the calls
// that can reach a migration point: a call left uninstrumented that migrates would run its caller again from the
// top on the way back (counting a step twice) — or fail. Every call of scale() is a round trip to "edge".
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>
#include "kafu.h"

KAFU_EXPORT(scale) int scale(int a);

static int steps;
static int edge_calls;

struct Op {
    virtual ~Op() = default;
    virtual int apply(int x) const = 0;
};
struct Plus : Op {
    int k;
    explicit Plus(int k) : k(k) {}
    int apply(int x) const override { return x + k; }
};
struct Remote : Op {
    int apply(int x) const override { return scale(x); }
};

__attribute__((noinline)) static int run_ops(const std::vector<std::unique_ptr<Op>> &ops, int x) {
    for (const auto &op : ops) {
        steps++;
        x = op->apply(x);
    }
    return x;
}

__attribute__((noinline)) static int run_fn(const std::function<int(int)> &f, int x) {
    steps++;
    return f(x + 1);
}

int main() {
    std::vector<std::unique_ptr<Op>> ops;
    ops.push_back(std::make_unique<Plus>(1));
    ops.push_back(std::make_unique<Remote>());
    ops.push_back(std::make_unique<Plus>(2));
    int acc = run_ops(ops, 20); // 21, 42, 44
    std::printf("virtual -> %d\n", acc);

    std::function<int(int)> held = scale;
    acc = run_fn(held, acc); // 2 * 45
    std::printf("function -> %d\n", acc);

    std::function<int(int)> lambda = [](int x) { return scale(x) + 1; };
    acc = run_fn(lambda, acc); // 2 * 91 + 1
    std::printf("lambda -> %d, steps %d, edge calls %d\n", acc, steps, edge_calls);
    return 0;
}

KAFU_DEST(scale, "edge")
int scale(int a) {
    edge_calls++;
    return 2 * a;
}
