// A bulk transfer made on node "edge" while the listener's home is the first node, so every byte goes through the
// relay: accepts one connection, reads argv[1] MiB from it (FNV-1a of them), then sends argv[1] MiB of a pattern
// (byte i = i*31+7) and closes. Prints the count and the hash.
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "kafu.h"
#include "listener.h"

static char buf[65536];

int transfer(int lfd, long total);
KAFU_DEST(transfer, "edge")
KAFU_EXPORT(transfer)
int transfer(int lfd, long total) {
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0) { printf("accept: %s\n", strerror(errno)); return 1; }
  uint32_t h = 2166136261u;
  long got = 0;
  while (got < total) {
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r <= 0) { printf("recv after %ld bytes: %s\n", got, r == 0 ? "end of stream" : strerror(errno)); return 1; }
    for (ssize_t i = 0; i < r; i++) h = (h ^ (unsigned char)buf[i]) * 16777619u;
    got += r;
  }
  long sent = 0;
  while (sent < total) {
    int n = 0;
    for (; n < (int)sizeof buf && sent + n < total; n++) buf[n] = (char)((sent + n) * 31 + 7);
    if (send_all(fd, buf, n) < 0) return 1;
    sent += n;
  }
  close(fd);
  printf("received %ld bytes, fnv1a %08x; sent %ld bytes\n", got, h, sent);
  return 0;
}

int main(int argc, char **argv) {
  long mib = argc > 1 ? atol(argv[1]) : 1;
  return transfer(find_listener(), mib << 20);
}
