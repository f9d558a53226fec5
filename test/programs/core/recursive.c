// Recursive KAFU_DEST functions with early returns.
//  * fib() is on "edge": only the outermost call (from main on "cloud") migrates in and out; the nested calls run
//    on edge already. Several `return` statements, all passing the exit point.
//  * search() is on "edge", recursive with early returns; at one depth it calls note() (on "cloud"), which moves
//    the program back to cloud and returns to edge; the return to cloud happens only when the outermost search
//    returns.
//  * is_even() ("edge") and is_odd() ("cloud") are mutually recursive: every call and every return moves.
#include <stdio.h>
#include "kafu.h"

KAFU_EXPORT(fib) int fib(int n);
KAFU_EXPORT(search) int search(const int *a, int lo, int hi, int key, int depth);
KAFU_EXPORT(note) void note(int depth, int mid);
KAFU_EXPORT(is_even) int is_even(int n);
KAFU_EXPORT(is_odd) int is_odd(int n);

static int fib_calls;
static int max_depth;
static int sorted[64];

int main(void) {
    int a = fib(15);
    printf("fib(15)=%d calls=%d\n", a, fib_calls);
    int b = fib(1);
    printf("fib(1)=%d calls=%d\n", b, fib_calls);

    for (int i = 0; i < 64; i++) sorted[i] = i * 3 + 1;
    int at = search(sorted, 0, 63, 3 * 50 + 1, 0);
    printf("search(151)=%d max_depth=%d\n", at, max_depth);
    int miss = search(sorted, 0, 63, 2, 0);
    printf("search(2)=%d\n", miss);

    printf("is_even(4)=%d\n", is_even(4));
    printf("is_odd(3)=%d\n", is_odd(3));
    return 0;
}

KAFU_DEST(fib, "edge")
int fib(int n) {
    fib_calls++;
    if (n == 0) return 0;
    if (n == 1) return 1;
    if (n == 2) return 1;
    int x = fib(n - 1);
    int y = fib(n - 2);
    return x + y;
}

KAFU_DEST(search, "edge")
int search(const int *a, int lo, int hi, int key, int depth) {
    if (depth > max_depth) max_depth = depth;
    if (lo > hi) return -1;
    int mid = lo + (hi - lo) / 2;
    if (depth == 3) note(depth, mid);
    if (a[mid] == key) return mid;
    if (a[mid] < key) return search(a, mid + 1, hi, key, depth + 1);
    return search(a, lo, mid - 1, key, depth + 1);
}

KAFU_DEST(note, "cloud")
void note(int depth, int mid) {
    printf("note: depth %d at mid %d\n", depth, mid);
}

KAFU_DEST(is_even, "edge")
int is_even(int n) {
    if (n == 0) return 1;
    return is_odd(n - 1);
}

KAFU_DEST(is_odd, "cloud")
int is_odd(int n) {
    if (n == 0) return 0;
    return is_even(n - 1);
}
