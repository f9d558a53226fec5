// Static and global state, and the C stack (__stack_pointer), across migrations.
//  * a static local counter in a KAFU_DEST function, a global array and a global struct, changed on each node;
//  * addresses of main's locals, of a VLA and of alloca'd memory are the same before and after migrating, and
//    their contents are intact; a function called at the same stack depth before and after gets the same frame
//    address (so __stack_pointer came back exactly); the migrated function writes through pointers into main's
//    frame.
#include <alloca.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "kafu.h"

struct stats {
    int hops;
    char last[16];
    double sum;
    int64_t big;
};

int history[32];
int nhistory;
struct stats st = {0, "none", 0.0, 1};
static const char *greeting = "hello";

KAFU_EXPORT(on_edge) int on_edge(int *cell, char *buf, size_t n, size_t step);
KAFU_EXPORT(on_fog) int on_fog(int v);

static void record(int v, const char *where) {
    history[nhistory++] = v;
    st.hops++;
    strncpy(st.last, where, sizeof st.last - 1);
    st.sum += v * 0.5;
    st.big *= 3;
}

static volatile uintptr_t probed;

__attribute__((noinline)) static uintptr_t frame_probe(void) {
    volatile char here = 0;
    probed = (uintptr_t)&here;
    return probed;
}

static int counter(void) {
    static int calls = 100;
    return ++calls;
}

int main(int argc, char **argv) {
    (void)argv;
    int n = argc + 9;                      // 10: a runtime size
    int local = 41;
    char vla[n * 8];
    char *heapless = alloca(64);
    for (int i = 0; i < n * 8; i++) vla[i] = (char)('a' + i % 26);
    memset(heapless, 'Z', 63);
    heapless[63] = 0;
    uintptr_t a_local = (uintptr_t)&local, a_vla = (uintptr_t)vla, a_alloca = (uintptr_t)heapless;
    uintptr_t probe_before = frame_probe();
    record(counter(), "cloud");

    int r1 = on_edge(&local, vla, (size_t)n * 8, 2);
    int r2 = on_fog(r1);
    int r3 = on_edge(&local, vla, (size_t)n * 8, 3);
    record(counter(), "cloud");

    uintptr_t probe_after = frame_probe();
    printf("results %d %d %d\n", r1, r2, r3);
    printf("local=%d vla=%.*s alloca=%s\n", local, n * 8, vla, heapless);
    printf("&local %s, vla %s, alloca %s, frame %s\n", a_local == (uintptr_t)&local ? "same" : "MOVED",
           a_vla == (uintptr_t)vla ? "same" : "MOVED", a_alloca == (uintptr_t)heapless ? "same" : "MOVED",
           probe_before == probe_after ? "same" : "MOVED");
    printf("history:");
    for (int i = 0; i < nhistory; i++) printf(" %d", history[i]);
    printf("\nstats: hops=%d last=%s sum=%.1f big=%lld greeting=%s\n", st.hops, st.last, st.sum, (long long)st.big,
           greeting);
    return 0;
}

KAFU_DEST(on_edge, "edge")
int on_edge(int *cell, char *buf, size_t n, size_t step) {
    int c = counter();
    record(c, "edge");
    *cell += 1;                            // main's local, through a pointer into the migrated stack
    for (size_t i = 0; i < n; i += step) buf[i] = (char)toupper((unsigned char)buf[i]);
    greeting = "changed on edge";
    return c * 10 + *cell;
}

KAFU_DEST(on_fog, "fog")
int on_fog(int v) {
    char scratch[128];                     // stack use on this node must not disturb the caller's frame
    memset(scratch, 0x55, sizeof scratch);
    int c = counter();
    record(c + v, "fog");
    return c + v + scratch[5];
}
