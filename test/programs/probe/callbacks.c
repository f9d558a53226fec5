// Function pointers in structs and arrays, qsort/bsearch whose comparators make system calls, and a recursion that
// goes through two functions calling each other by pointer.
#include <stdio.h>
#include <stdlib.h>

typedef struct { const char *name; int (*op)(int, int); } Op;
static int add(int a, int b) { printf("add %d %d\n", a, b); return a + b; }
static int mul(int a, int b) { printf("mul %d %d\n", a, b); return a * b; }
static int sub_(int a, int b) { printf("sub %d %d\n", a, b); return a - b; }
static Op ops[] = { {"add", add}, {"mul", mul}, {"sub", sub_} };

static int compares;
static int cmp(const void *x, const void *y) {
    int a = *(const int *)x, b = *(const int *)y;
    if (++compares % 7 == 0) printf("compare %d %d\n", a, b);
    return (a > b) - (a < b);
}

typedef long (*step_fn)(int, void *);
struct pair { step_fn even, odd; };
static long is_even(int n, void *p);
static long is_odd(int n, void *p) {
    struct pair *fp = p;
    if (n % 50 == 0) printf("odd %d\n", n);
    return n == 0 ? 0 : fp->even(n - 1, p) + 1;
}
static long is_even(int n, void *p) {
    struct pair *fp = p;
    if (n % 50 == 0) printf("even %d\n", n);
    return n == 0 ? 1 : fp->odd(n - 1, p) * 2 % 1000003;
}

int main(void) {
    int acc = 1;
    for (int i = 0; i < 9; i++) acc = ops[i % 3].op(acc, i + 2);
    printf("acc %d\n", acc);
    int v[64];
    for (int i = 0; i < 64; i++) v[i] = (i * 37) % 101 - 50;
    qsort(v, 64, sizeof v[0], cmp);
    for (int i = 0; i < 64; i += 8) printf("%d ", v[i]);
    printf("\n");
    int key = v[33];
    int *hit = bsearch(&key, v, 64, sizeof v[0], cmp);
    printf("found %d at %d after %d compares\n", key, (int)(hit - v), compares);
    struct pair fp = { is_even, is_odd };
    printf("mutual %ld\n", fp.even(400, &fp));
    return 0;
}
