// The target of hostile snapshots (test/wasi/hostile-snapshot.test.ts): data.txt stays open across the hop to edge,
// where it is read through the same descriptor and printed; a file made on cloud travels in the follow mount.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "kafu.h"

KAFU_EXPORT(on_edge) void on_edge(int fd);

int main(void) {
    int fd = open("/data.txt", O_RDONLY);
    if (fd < 0) { perror("open /data.txt"); return 1; }
    int out = open("/made-on-cloud.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (out < 0 || write(out, "cloud\n", 6) != 6) { perror("made-on-cloud.txt"); return 1; }
    close(out);
    on_edge(fd);
    printf("back on cloud\n");
    return 0;
}

KAFU_DEST(on_edge, "edge")
void on_edge(int fd) {
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("edge read: %s", buf);
    fflush(stdout);
}
