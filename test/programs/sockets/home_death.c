// Runs on the first node; its listener's home is another node, which the test kills after the first line arrived:
// the program must then see ECONNRESET on that connection (and on the listener), not crash.
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "listener.h"

int main(void) {
  int lfd = find_listener();
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0) { printf("accept: %s\n", strerror(errno)); return 1; }
  char buf[256];
  ssize_t r = recv(fd, buf, sizeof buf - 1, 0);
  if (r <= 0) { printf("first recv: %zd\n", r); return 1; }
  buf[r] = 0;
  printf("got: %s", buf);
  fflush(stdout);
  // The home dies now (the test waits for the line above). The next calls fail; the program goes on.
  r = recv(fd, buf, sizeof buf, 0);
  printf("recv: %zd %s\n", r, r < 0 ? strerror(errno) : "");
  r = send(fd, "x", 1, 0);
  printf("send: %zd %s\n", r, r < 0 ? strerror(errno) : "");
  fflush(stdout);
  int a = accept(lfd, NULL, NULL);
  printf("accept: %d %s\n", a, a < 0 ? strerror(errno) : "");
  printf("close: %d\n", close(fd));
  return 0;
}
