// The program's first pre-opened listening socket (the first descriptor that fstat says is a socket), and sending
// a whole buffer on a connection.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

static int find_listener(void) {
  for (int fd = 3; fd < 64; fd++) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) return fd;
  }
  fprintf(stderr, "no listening socket\n");
  exit(2);
}

/** Send all `n` bytes at `p` (send may take fewer); 0, or -1 after printing why. */
static int send_all(int fd, const char *p, int n) {
  for (int off = 0; off < n;) {
    ssize_t w = send(fd, p + off, n - off, 0);
    if (w < 0) { printf("send: %s\n", strerror(errno)); return -1; }
    off += (int)w;
  }
  return 0;
}
