// C++ static constructors and destructors that print, atexit, templates, lambdas, std::function, and a
// std::vector that grows across migrations.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

struct Noisy {
    std::string name;
    explicit Noisy(const char *n) : name(n) { std::printf("ctor %s\n", name.c_str()); }
    ~Noisy() { std::printf("dtor %s\n", name.c_str()); }
};
static Noisy first("first");
static Noisy second("second");

template <typename T> T fold(const std::vector<T> &v, std::function<T(T, T)> f, T init) {
    for (const T &x : v) init = f(init, x);
    return init;
}

static void at_exit_handler() { std::printf("atexit handler\n"); }

int main() {
    std::atexit(at_exit_handler);
    static Noisy local("function-static");
    std::vector<long> v;
    for (int i = 0; i < 3000; i++) {
        v.push_back(i * 7L);
        if ((i & (i - 1)) == 0) std::printf("size %zu capacity>=size %d\n", v.size(), v.capacity() >= v.size());
    }
    int calls = 0;
    auto add = [&calls](long a, long b) { if (++calls % 500 == 0) std::printf("lambda call %d\n", calls); return a + b; };
    std::printf("fold %ld\n", fold<long>(v, add, 0));
    std::map<std::string, int> m;
    for (int i = 0; i < 20; i++) { m["k" + std::to_string(i % 7)] += i; std::printf("m %zu\n", m.size()); }
    for (auto &[k, x] : m) std::printf("%s=%d\n", k.c_str(), x);
    return 0;
}
