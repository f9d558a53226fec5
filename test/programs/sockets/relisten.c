// Serves one client from node "edge": prints that it waits, accepts, answers the line it gets in capitals, prints
// it. The tests restart the listener's home while the program waits on edge (a checkpoint's recovery, --resume): the
// listener, opened again by the new process under a new handle, must still accept.
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "kafu.h"
#include "listener.h"

int serve_one(int lfd);
KAFU_DEST(serve_one, "edge")
KAFU_EXPORT(serve_one)
int serve_one(int lfd) {
  printf("waiting on edge\n");
  fflush(stdout);
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0) { printf("accept: %s\n", strerror(errno)); return 1; }
  char buf[256];
  ssize_t r = recv(fd, buf, sizeof buf - 1, 0);
  if (r <= 0) { printf("recv: %zd %s\n", r, r < 0 ? strerror(errno) : ""); return 1; }
  buf[r] = 0;
  printf("served: %s", buf);
  for (ssize_t i = 0; i < r; i++) buf[i] = (char)toupper((unsigned char)buf[i]);
  send(fd, buf, (size_t)r, 0);
  close(fd);
  return 0;
}

int main(void) { return serve_one(find_listener()); }
