// A KAFU_DEST function whose address travels before it is called: returned by a function, stored in a heap
// structure by one function and called by another, kept in a global, hidden in an integer, copied with memcpy,
// registered in a callback list shared with a local function of the same type, and handed to qsort inside a
// structure. The instrumenter follows function addresses (src/instrument/points-to.ts) to instrument only the
// calls that can reach a migration point: a flow it missed would leave a call uninstrumented, and the migration
// through it would fail. Every call of twice() or order() is a round trip to "edge".
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kafu.h"

typedef int (*binop)(int); // not the comparator's wasm type (i32,i32)->i32: only the flow can tell
typedef int (*cmpfn)(const void *, const void *);

KAFU_EXPORT(twice) int twice(int a);
KAFU_EXPORT(order) int order(const void *a, const void *b);

static int edge_calls;
// Each function that calls through a pointer counts a step first: a call that is not instrumented but migrates
// would run its function again from the top on the way back (counting the step twice) — or worse.
static int steps;
static int local_add(int a) { return a + 1; }

__attribute__((noinline)) static binop pick(int k) { return k > 0 ? twice : local_add; }
__attribute__((noinline)) static int via_return(int k, int x) { steps++; return pick(k)(x + 1); }

struct handler { binop fn; int arg; };
__attribute__((noinline)) static void set_handler(struct handler *h, binop fn, int arg) { h->fn = fn; h->arg = arg; }
__attribute__((noinline)) static int call_handler(const struct handler *h, int x) { steps++; return h->fn(x + h->arg); }

static binop volatile global_fn;
__attribute__((noinline)) static int via_global(int x) { steps++; return global_fn(x + 5); }

__attribute__((noinline)) static int via_integer(uintptr_t hidden, uintptr_t key, int x) { steps++; return ((binop)(hidden ^ key))(x + 7); }

__attribute__((noinline)) static int via_copy(const struct handler *h, int x) {
    struct handler copy;
    memcpy(&copy, h, sizeof copy);
    steps++;
    return copy.fn(x + 11);
}

static binop callbacks[4];
static int ncallbacks;
__attribute__((noinline)) static void on_event(binop fn) { callbacks[ncallbacks++] = fn; }
__attribute__((noinline)) static int fire(int x) {
    for (int i = 0; i < ncallbacks; i++) { steps++; x = callbacks[i](x + i + 1); }
    return x;
}

struct sorter { cmpfn cmp; const char *name; };
__attribute__((noinline)) static void sort_with(const struct sorter *s, int *v, int n) { steps++; qsort(v, (size_t)n, sizeof *v, s->cmp); }

int main(int argc, char **argv) {
    (void)argv;
    int acc = via_return(argc, 20);                     // 1: returned by a function
    printf("returned -> %d\n", acc);

    struct handler *h = malloc(sizeof *h);
    set_handler(h, pick(argc), 3);
    acc = call_handler(h, acc);                         // 2: a heap structure
    printf("heap -> %d\n", acc);

    global_fn = pick(argc);
    acc = via_global(acc);                              // 3: a global
    printf("global -> %d\n", acc);

    uintptr_t key = (uintptr_t)argc * 0x9e3779b9u;
    acc = via_integer((uintptr_t)h->fn ^ key, key, acc); // 4: an integer
    printf("integer -> %d\n", acc);

    acc = via_copy(h, acc);                             // 5: a copied structure
    printf("copied -> %d\n", acc);
    free(h);

    on_event(local_add);
    on_event(pick(argc));
    on_event(local_add);
    acc = fire(acc);                                    // 6: a callback list (one of three calls migrates)
    printf("callbacks -> %d\n", acc);

    struct sorter s = {order, "order"};
    int v[3] = {acc % 7, acc % 5, acc % 3};
    sort_with(&s, v, 3);                                // 7: qsort, the comparator from a structure
    printf("sorted %d %d %d, steps %d, edge calls %d\n", v[0], v[1], v[2], steps, edge_calls);
    return 0;
}

KAFU_DEST(twice, "edge")
int twice(int a) { edge_calls++; return 2 * a; }

KAFU_DEST(order, "edge")
int order(const void *a, const void *b) {
    edge_calls++;
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
