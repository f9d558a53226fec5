// The program's first pre-opened listening socket: the first descriptor that fstat says is a socket.
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int find_listener(void) {
  for (int fd = 3; fd < 64; fd++) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) return fd;
  }
  fprintf(stderr, "no listening socket\n");
  exit(2);
}
