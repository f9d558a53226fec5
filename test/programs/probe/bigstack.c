// Large stack arrays (128 KiB and more in one frame), struct returns by value, across system calls.
#include <stdio.h>
#include <string.h>

typedef struct { long a, b; double c; char name[40]; } Big;

static Big make(int i) {
    Big r;
    r.a = i * 1000003L;
    r.b = -i;
    r.c = i / 7.0;
    snprintf(r.name, sizeof r.name, "item-%d", i);
    printf("made %s\n", r.name);
    return r;
}

static Big twice(Big x) {
    printf("twice %s\n", x.name);
    x.a *= 2; x.b *= 2; x.c *= 2;
    return x;
}

static unsigned deep_array(int level) {
    unsigned char arr[128 * 1024];
    for (unsigned i = 0; i < sizeof arr; i++) arr[i] = (unsigned char)(i * 13 + level);
    printf("level %d filled\n", level);
    unsigned sub = level > 0 ? deep_array(level - 1) : 7;
    unsigned h = sub;
    for (unsigned i = 0; i < sizeof arr; i += 97) h = h * 33 + arr[i];
    printf("level %d hash %u\n", level, h);
    return h;
}

int main(void) {
    Big b = twice(make(5));
    printf("%ld %ld %.4f %s\n", b.a, b.b, b.c, b.name);
    printf("deep %u\n", deep_array(3));
    return 0;
}
