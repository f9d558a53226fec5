// An echo server driven by poll(): serves argv[1] connections in all, up to 64 at once, on non-blocking sockets
// (accept, then fcntl O_NONBLOCK; read and write through fd_read/fd_write). Whatever a connection sends comes back
// unchanged. At the end: how many connections and bytes.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "listener.h"

#define MAXC 64

struct conn { int fd; int outlen; char out[2048]; };

static struct conn conns[MAXC];
static int nconns = 0;

int main(int argc, char **argv) {
  int total = argc > 1 ? atoi(argv[1]) : 1;
  int lfd = find_listener();
  if (fcntl(lfd, F_SETFL, O_NONBLOCK) != 0) { printf("fcntl: %s\n", strerror(errno)); return 1; }
  int accepted = 0, closed = 0;
  long bytes = 0;
  while (closed < total) {
    struct pollfd p[MAXC + 1];
    int n = 0;
    for (int i = 0; i < nconns; i++) p[n++] = (struct pollfd){ conns[i].fd, conns[i].outlen > 0 ? POLLOUT : POLLIN, 0 };
    int lslot = -1;
    if (accepted < total && nconns < MAXC) { lslot = n; p[n++] = (struct pollfd){ lfd, POLLIN, 0 }; }
    int r = poll(p, n, 20000);
    if (r < 0) { printf("poll: %s\n", strerror(errno)); return 1; }
    if (r == 0) { printf("poll: nothing for 20 s\n"); return 1; }
    // Connections first (their slots are 0..nconns-1 as listed), from the last so that removing one keeps the rest.
    for (int i = nconns - 1; i >= 0; i--) {
      struct conn *c = &conns[i];
      if (p[i].revents == 0) continue;
      int gone = 0;
      if (c->outlen > 0) {
        ssize_t w = write(c->fd, c->out, c->outlen);
        if (w > 0) { memmove(c->out, c->out + w, c->outlen - w); c->outlen -= (int)w; }
        else if (w < 0 && errno != EAGAIN) gone = 1;
      } else {
        ssize_t got = read(c->fd, c->out, sizeof c->out);
        if (got > 0) {
          bytes += got;
          c->outlen = (int)got;
          ssize_t w = write(c->fd, c->out, c->outlen); // usually all of it at once
          if (w > 0) { memmove(c->out, c->out + w, c->outlen - w); c->outlen -= (int)w; }
        } else if (got == 0 || errno != EAGAIN) gone = 1;
      }
      if (gone) {
        close(c->fd);
        conns[i] = conns[--nconns];
        closed++;
      }
    }
    if (lslot >= 0 && (p[lslot].revents & POLLIN)) {
      while (accepted < total && nconns < MAXC) {
        // Every other one non-blocking from the start (accept4), the others made so with fcntl.
        int fd = accepted % 2 ? accept4(lfd, NULL, NULL, SOCK_NONBLOCK) : accept(lfd, NULL, NULL);
        if (fd < 0) {
          if (errno == EAGAIN) break;
          printf("accept: %s\n", strerror(errno));
          return 1;
        }
        if (accepted % 2 == 0 && fcntl(fd, F_SETFL, O_NONBLOCK) != 0) { printf("fcntl: %s\n", strerror(errno)); return 1; }
        if (!(fcntl(fd, F_GETFL) & O_NONBLOCK)) { printf("fd %d is blocking\n", fd); return 1; }
        conns[nconns++] = (struct conn){ fd, 0, {0} };
        accepted++;
      }
    }
  }
  printf("served %d connections, %ld bytes echoed\n", closed, bytes);
  return 0;
}
