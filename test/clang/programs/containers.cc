// C++ standard library: iostream, vector, string, map.
#include <iostream>
#include <map>
#include <string>
#include <vector>

int main() {
  std::vector<int> v{3, 1, 2};
  std::map<std::string, int> m;
  for (int x : v) m["k" + std::to_string(x)] = x * 10;
  std::string s;
  for (const auto &[k, val] : m) s += k + "=" + std::to_string(val) + " ";
  std::cout << s << "size " << v.size() << std::endl;
  return 0;
}
