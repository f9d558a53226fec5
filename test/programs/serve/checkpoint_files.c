// Files the program brought to edge on its first visit, then, on its second (whose hop carries none: edge holds
// them), edge killed and restarted on an empty folder: continued from the checkpoint, the program must find them
// there. On the second visit edge prints a marker, then naps (tests kill it meanwhile).
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "kafu.h"

KAFU_EXPORT(on_edge) int on_edge(int step);

static void show(const char *where, const char *p) {
  char buf[64] = {0};
  int fd = open(p, O_RDONLY);
  if (fd < 0) { printf("%s: %s: missing\n", where, p); return; }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  printf("%s: %s: [%.*s]\n", where, p, (int)(n < 0 ? 0 : n), buf);
}

int main(void) {
  mkdir("/data/dir", 0755);
  int fd = open("/data/dir/note.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  write(fd, "brought", 7);
  close(fd);
  on_edge(1);
  on_edge(2);
  show("cloud", "/data/dir/note.txt");
  show("cloud", "/data/edge.txt");
  return 0;
}

KAFU_DEST(on_edge, "edge")
int on_edge(int step) {
  show("edge", "/data/dir/note.txt");
  if (step == 1) return step;
  printf("edge: napping\n");
  fflush(stdout);
  struct timespec nap = {1, 500 * 1000 * 1000};
  nanosleep(&nap, NULL);
  int fd = open("/data/edge.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  write(fd, "from edge", 9);
  close(fd);
  return step;
}
