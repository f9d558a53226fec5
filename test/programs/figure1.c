#include <stdio.h>
#include "kafu.h"

void f();

int main() {
    // Starts the program on the cloud node.
    printf("Hello, from cloud!\n");
    fflush(stdout);
}

KAFU_DEST(f, "edge")
KAFU_EXPORT(f)
void f() {
    printf("Hello, from edge!\n");
    fflush(stdout);
}
