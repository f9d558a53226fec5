// Files left in a browser tab's folder, then the tab replaced by another while the program is on cloud: the new tab
// starts with empty folders, yet the program must find its files there (the hop is sent again with them). cloud
// waits for /ctl/go (a node-local folder the test fills once the new tab is up; a plain run finds it at once).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "kafu.h"
#include "file_lines.h"

KAFU_EXPORT(on_edge) int on_edge(int step);

int main(void) {
  mkdir("/data/dir", 0755);
  put("/data/note.txt", "kept");
  put("/data/dir/inner.txt", "inner");
  on_edge(1);
  printf("cloud: waiting for the tab swap\n");
  fflush(stdout);
  struct timespec nap = {0, 50 * 1000 * 1000};
  for (int i = 0; i < 1200 && access("/ctl/go", F_OK) != 0; i++) nanosleep(&nap, NULL);
  put("/data/late.txt", "late");
  on_edge(2);
  show("cloud", "/data/note.txt");
  return 0;
}

KAFU_DEST(on_edge, "edge")
int on_edge(int step) {
  const char *where = step == 1 ? "first tab" : "second tab";
  show(where, "/data/note.txt");
  show(where, "/data/dir/inner.txt");
  if (step == 2) show(where, "/data/late.txt");
  return step;
}
