// A node loses follow-mount files the program left there while the program is away (its folder emptied: a node
// restarted on an empty disk, a browser tab replaced by another). /data is a follow mount (one folder per node);
// /edge-folder a node-local mount that is, on cloud, edge's /data folder, through which the program itself empties
// it behind its own back. Coming back to edge, the program must find every file it has — as without migration.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kafu.h"
#include "file_lines.h"

KAFU_EXPORT(on_edge) int on_edge(int step);

static void show_all(const char *where) {
  show(where, "/data/note.txt");
  show(where, "/data/dir/inner.txt");
  show(where, "/data/twin.txt"); // a hard link to note.txt
  struct stat a, b;
  if (stat("/data/note.txt", &a) == 0 && stat("/data/twin.txt", &b) == 0)
    printf("%s: note.txt and twin.txt %s\n", where, a.st_ino == b.st_ino ? "are one file" : "are two files");
}

int main(void) {
  mkdir("/data/dir", 0755);
  put("/data/note.txt", "kept");
  put("/data/dir/inner.txt", "inner");
  link("/data/note.txt", "/data/twin.txt");
  on_edge(1);
  // Edge's copy, emptied: the program's state still says edge holds these files.
  printf("cloud: emptying edge's folder: %d %d %d %d\n", unlink("/edge-folder/dir/inner.txt"), rmdir("/edge-folder/dir"),
         unlink("/edge-folder/note.txt"), unlink("/edge-folder/twin.txt"));
  put("/data/changed.txt", "changed on cloud");
  on_edge(2);
  show_all("cloud, at the end");
  return 0;
}

KAFU_DEST(on_edge, "edge")
int on_edge(int step) {
  show_all(step == 1 ? "edge, first visit" : "edge, second visit");
  if (step == 2) show("edge, second visit", "/data/changed.txt");
  return step;
}
