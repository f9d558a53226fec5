// bench:sockets — serves its listener twice: on the listener's home node, then (argv[1] "relay") from node "edge",
// where every socket call goes through the relay. Each time: an echo connection (every read written back, until the
// end), then a sink connection (bytes counted until the end, answered "ok <count>\n").
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "kafu.h"
#include <stdlib.h>
#include <sys/stat.h>

static int find_listener(void) {
  for (int fd = 3; fd < 64; fd++) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) return fd;
  }
  exit(2);
}

static char buf[1 << 16];

static void serve(int lfd) {
  int fd = accept(lfd, NULL, NULL);
  ssize_t r;
  while ((r = recv(fd, buf, sizeof buf, 0)) > 0) {
    for (ssize_t off = 0; off < r;) {
      ssize_t w = send(fd, buf + off, r - off, 0);
      if (w < 0) return;
      off += w;
    }
  }
  close(fd);
  fd = accept(lfd, NULL, NULL);
  long total = 0;
  while ((r = recv(fd, buf, sizeof buf, 0)) > 0) total += r;
  int n = snprintf(buf, 64, "ok %ld\n", total);
  send(fd, buf, n, 0);
  close(fd);
}

void serve_on_edge(int lfd);
KAFU_DEST(serve_on_edge, "edge")
KAFU_EXPORT(serve_on_edge)
void serve_on_edge(int lfd) { serve(lfd); }

int main(int argc, char **argv) {
  int lfd = find_listener();
  serve(lfd);
  if (argc > 1 && strcmp(argv[1], "relay") == 0) serve_on_edge(lfd);
  return 0;
}
