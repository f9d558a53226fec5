// Sends argv[1] MiB to one client in 64 KiB sends, then closes. Each send's bytes differ from the one before at every
// offset (byte i = i*31 + (i/65536)*101 + 7), so a send whose bytes were overwritten by the next one before they
// went out shows up at the client. The client reads only after a while, so that the sends queue at the home.
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "listener.h"

static char buf[65536];

int main(int argc, char **argv) {
  long total = (argc > 1 ? atol(argv[1]) : 1) << 20;
  int fd = accept(find_listener(), NULL, NULL);
  if (fd < 0) { printf("accept: %s\n", strerror(errno)); return 1; }
  long sent = 0;
  while (sent < total) {
    int n = 0;
    for (; n < (int)sizeof buf && sent + n < total; n++) buf[n] = (char)((sent + n) * 31 + ((sent + n) >> 16) * 101 + 7);
    if (send_all(fd, buf, n) < 0) return 1;
    sent += n;
  }
  close(fd);
  printf("sent %ld bytes\n", sent);
  return 0;
}
