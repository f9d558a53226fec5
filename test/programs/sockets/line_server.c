// A line server: accepts argv[1] connections one after the other; for each line a client sends, the answer is
// made and sent on node "edge" (the listener's home is the first node, so there the socket is reached through the
// relay). Each answer: "<n>:<LINE UPPER-CASED>\n", n counting lines over all connections.
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "kafu.h"
#include "listener.h"

static int answered = 0;

void answer(int fd, const char *line, int len);
KAFU_DEST(answer, "edge")
KAFU_EXPORT(answer)
void answer(int fd, const char *line, int len) {
  char out[1100];
  int n = snprintf(out, 32, "%d:", ++answered);
  for (int i = 0; i < len; i++) out[n++] = (char)toupper((unsigned char)line[i]);
  out[n++] = '\n';
  int done = 0;
  while (done < n) {
    ssize_t w = send(fd, out + done, n - done, 0);
    if (w < 0) return; // the client went away: its next recv says so
    done += (int)w;
  }
}

int main(int argc, char **argv) {
  int conns = argc > 1 ? atoi(argv[1]) : 1;
  int lfd = find_listener();
  for (int c = 0; c < conns; c++) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) { printf("accept: %s\n", strerror(errno)); return 1; }
    char buf[1024];
    int have = 0, lines = 0;
    // The first byte, peeked: the recv after it must see it again.
    char first;
    int type = 0;
    socklen_t tlen = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM) printf("SO_TYPE: %d\n", type);
    if (recv(fd, &first, 1, MSG_PEEK) == 1) {
      ssize_t r = recv(fd, buf, 1, 0);
      if (r != 1 || buf[0] != first) printf("peek: %c, then %zd %c\n", first, r, buf[0]);
      have = 1;
    }
    for (;;) {
      ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
      if (r <= 0) break; // the end, or a client that went away (its reset): the same to this server
      have += (int)r;
      char *nl;
      while ((nl = memchr(buf, '\n', have)) != NULL) {
        int len = (int)(nl - buf);
        answer(fd, buf, len);
        lines++;
        memmove(buf, nl + 1, have - len - 1);
        have -= len + 1;
      }
      if (have == sizeof buf) have = 0; // a line too long: dropped
    }
    shutdown(fd, SHUT_WR); // the client reads to the end: nothing more comes
    close(fd);
    printf("connection %d: %d lines\n", c + 1, lines);
    fflush(stdout);
  }
  printf("served %d connections, %d answers\n", conns, answered);
  return 0;
}
