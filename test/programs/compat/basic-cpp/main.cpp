// In the style of the original Kafu's examples/basic-cpp: C++ built by kafu_clang with -lstdc++, spectest output.
#include <cstdio>
#include <string>
#include <vector>
#include <spectest.h>
#include "kafu.h"

class Tally {
 public:
  void add(int v) { values_.push_back(v); }
  int sum() const {
    int s = 0;
    for (int v : values_) s += v;
    return s;
  }

 private:
  std::vector<int> values_;
};

extern "C" int on_edge(int x);

int main() {
  Tally t;
  t.add(1);
  t.add(on_edge(41));
  spectest_print_i32(t.sum());
  spectest_print_i64(-5000000000LL);
  spectest_print_f32(1.5f);
  spectest_print_f64(2.25);
  spectest_print_i32_f32(7, 0.5f);
  spectest_print_f64_f64(-3.0, 1e21);
  std::string done = "done";
  std::printf("%s\n", done.c_str());
  return 0;
}

KAFU_DEST(on_edge, "edge1")
KAFU_EXPORT(on_edge)
int on_edge(int x) {
  spectest_print_i32(x);
  return x + 1;
}
