// C++ across migrations: classes with virtual methods, std::vector / std::string / std::map / unique_ptr and
// iostream output (buffered in linear memory: what cout holds when the program migrates must come out once).
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>
#include "kafu.h"

struct Shape {
    virtual ~Shape() = default;
    virtual double area() const = 0;
    virtual std::string name() const = 0;
};

struct Rect : Shape {
    double w, h;
    Rect(double w, double h) : w(w), h(h) {}
    double area() const override { return w * h; }
    std::string name() const override { return "rect " + std::to_string(int(w)) + "x" + std::to_string(int(h)); }
};

struct Circle : Shape {
    double r;
    explicit Circle(double r) : r(r) {}
    double area() const override { return 3.0 * r * r; }
    std::string name() const override { return "circle r=" + std::to_string(int(r)); }
};

struct World {
    std::vector<std::unique_ptr<Shape>> shapes;
    std::map<std::string, int> counts;
    std::string journal;
};

KAFU_EXPORT(grow_on_edge) double grow_on_edge(World *w, int n);
KAFU_EXPORT(summarize_on_cloud) int summarize_on_cloud(World *w);

static double total(const World &w) {
    double t = 0;
    for (const auto &s : w.shapes) t += s->area();
    return t;
}

int main() {
    World w;
    w.shapes.push_back(std::make_unique<Rect>(2, 3));
    w.shapes.push_back(std::make_unique<Circle>(1));
    w.counts["rect"] = 1;
    w.counts["circle"] = 1;
    w.journal = "cloud:start";
    std::cout << "cloud: " << w.shapes.size() << " shapes, area " << total(w);  // no newline, no flush yet
    double t = grow_on_edge(&w, 5);
    std::cout << " | after edge: " << w.shapes.size() << " shapes, area " << total(w) << " (edge said " << t << ")\n";
    for (const auto &s : w.shapes) std::cout << "  " << s->name() << " = " << s->area() << "\n";
    for (const auto &[k, v] : w.counts) std::cout << "  count " << k << ": " << v << "\n";
    std::cout << "journal: " << w.journal << std::endl;
    return 0;
}

KAFU_DEST(grow_on_edge, "edge")
double grow_on_edge(World *w, int n) {
    for (int i = 0; i < n; i++) {
        if (i % 2) w->shapes.push_back(std::make_unique<Circle>(i + 1));
        else w->shapes.push_back(std::make_unique<Rect>(i + 1, i + 2));
        w->counts[i % 2 ? "circle" : "rect"]++;
    }
    w->journal += ";edge:grew " + std::to_string(n);
    std::cout << " [edge sees " << w->shapes.size() << "]";
    int c = summarize_on_cloud(w);
    w->journal += ";edge:back c=" + std::to_string(c);
    return total(*w);
}

KAFU_DEST(summarize_on_cloud, "cloud")
int summarize_on_cloud(World *w) {
    std::ostringstream os;
    os << ";cloud:summary";
    for (const auto &[k, v] : w->counts) os << " " << k << "=" << v;
    w->journal += os.str();
    w->counts["summaries"]++;
    return int(w->shapes.size());
}
