// The brief's Figure 1, with main calling f so that the run shows a migration:
// main starts on the first node ("cloud"), f runs on "edge", and the program returns to "cloud".
#include <stdio.h>
#include "kafu.h"

void f();

int main() {
    // Starts the program on the cloud node.
    printf("Hello, from cloud!\n");
    fflush(stdout);
    f();
    printf("Back on cloud.\n");
    fflush(stdout);
}

KAFU_DEST(f, "edge")
KAFU_EXPORT(f)
void f() {
    printf("Hello, from edge!\n");
    fflush(stdout);
}
