// File I/O interleaved with KAFU_DEST migrations (cloud -> edge -> cloud). argv[1] is the folder to work in
// (a follow mount, or a folder of preopened "/"); argv[2] the scenario:
//   files      one file written half on each node then read back, a listing continued on the other node, an
//              O_APPEND log written from both nodes, files made, renamed, deleted and overwritten on edge
//   nl-open    a file open on the node-local mount /sensors when on_edge is called: the migration is refused
//   nl-closed  /sensors read on each node with nothing open across the call: each node sees its own folder
//   exit       exit(23) on edge ends the program there
//   renamed    a file and the folder holding it renamed while open; written on edge through the same fd
//   unlinked   a file deleted while open when on_edge is called: the migration is refused
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kafu.h"

#define ENTRIES 150
#define HALF 600

KAFU_EXPORT(on_edge) int on_edge(int step);

static const char *base;
static int out_fd = -1, log_fd = -1;
static DIR *dir;
static char seen[ENTRIES + 8][64];
static int nseen, dups;

static char *path(const char *name) {
  static char buf[8][256];
  static int i;
  i = (i + 1) % 8;
  snprintf(buf[i], sizeof buf[i], "%s/%s", base, name);
  return buf[i];
}

static void put(const char *p, const char *text) {
  int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) { printf("cannot create %s: %s\n", p, strerror(errno)); return; }
  write(fd, text, strlen(text));
  close(fd);
}

static void show(const char *label, const char *p) {
  char buf[256] = {0};
  int fd = open(p, O_RDONLY);
  if (fd < 0) { printf("%s: %s\n", label, strerror(errno)); return; }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n > 0 && buf[n - 1] == '\n') buf[n - 1] = 0;
  printf("%s: [%s]\n", label, buf);
}

static void logline(const char *text) {
  if (write(log_fd, text, strlen(text)) != (ssize_t)strlen(text)) printf("log write failed\n");
}

static int next_entries(int max) {
  int got = 0;
  struct dirent *e;
  while (got < max && (e = readdir(dir)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    for (int i = 0; i < nseen; i++) dups += !strcmp(seen[i], e->d_name);
    if (nseen < ENTRIES + 8) snprintf(seen[nseen++], sizeof seen[0], "%s", e->d_name);
    got++;
  }
  return got;
}

static void list(const char *who, const char *p) {
  DIR *d = opendir(p);
  if (!d) { printf("%s cannot list %s: %s\n", who, p, strerror(errno)); return; }
  char names[16][64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < 16) {
    if (e->d_name[0] == '.') continue;
    snprintf(names[n++], sizeof names[0], "%s", e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
  printf("%s sees:", who);
  for (int i = 0; i < n; i++) printf(" %s", names[i]);
  printf("\n");
}

static char pattern(int i) { return i < HALF ? 'A' + i % 26 : 'a' + i % 26; }

static int files(void) {
  mkdir(base, 0755);
  mkdir(path("list"), 0755);
  for (int i = 0; i < ENTRIES; i++) {
    char name[96];
    snprintf(name, sizeof name, "list/entry_%03d_with_a_name_long_enough_to_fill_buffers", i);
    close(open(path(name), O_CREAT | O_WRONLY, 0644));
  }
  out_fd = open(path("out.bin"), O_CREAT | O_RDWR | O_TRUNC, 0644);
  char half[HALF];
  for (int i = 0; i < HALF; i++) half[i] = pattern(i);
  printf("cloud wrote first half: %zd\n", write(out_fd, half, HALF));
  log_fd = open(path("log.txt"), O_CREAT | O_WRONLY | O_APPEND, 0644);
  logline("cloud: start\n");
  dir = opendir(path("list"));
  printf("cloud listed %d entries\n", next_entries(40));
  put(path("cloud-only.txt"), "from cloud");
  put(path("to-delete.txt"), "delete me");
  put(path("to-rename.txt"), "rename me");
  put(path("overwrite.txt"), "AAAA");

  int r = on_edge(1);
  printf("back on cloud (on_edge returned %d)\n", r);
  logline("cloud: back\n");
  char all[2 * HALF + 16];
  printf("seek to 0: %lld\n", (long long)lseek(out_fd, 0, SEEK_SET));
  ssize_t n = read(out_fd, all, sizeof all);
  int bad = 0;
  for (int i = 0; i < n; i++) bad += all[i] != pattern(i);
  printf("out.bin read back: %zd bytes, %d wrong\n", n, bad);
  int rest = next_entries(ENTRIES);
  printf("cloud listed the rest: %d, in all %d, %d duplicates\n", rest, nseen, dups);
  closedir(dir);
  show("edge-made.txt on cloud", path("edge-made.txt"));
  show("edge-dir/nested.txt on cloud", path("edge-dir/nested.txt"));
  char link[64] = {0};
  readlink(path("edge-link"), link, sizeof link - 1);
  printf("edge-link -> %s\n", link);
  show("through edge-link", path("edge-link"));
  show("to-delete.txt on cloud", path("to-delete.txt"));
  show("to-rename.txt on cloud", path("to-rename.txt"));
  show("renamed-on-edge.txt on cloud", path("renamed-on-edge.txt"));
  show("overwrite.txt on cloud", path("overwrite.txt"));

  r = on_edge(2);
  logline("cloud: end\n");
  close(out_fd);
  close(log_fd);
  show("log on cloud", path("log.txt"));
  return 0;
}

static int nl_open(void) {
  put(path("before.txt"), "written before");
  int fd = open("/sensors/reading.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  printf("reading.txt fd %d wrote %zd\n", fd, write(fd, "cloud reading\n", 14));
  printf("calling on_edge with a node-local file open\n");
  fflush(stdout);
  on_edge(3);
  printf("on_edge returned?!\n");
  return 1;
}

static int nl_closed(void) {
  list("cloud", "/sensors");
  show("cloud id", "/sensors/id.txt");
  on_edge(4);
  list("cloud", "/sensors");
  show("edge-note.txt on cloud", "/sensors/edge-note.txt");
  show("follow mount file from edge on cloud", path("edge-was-here.txt"));
  return 0;
}

static int renamed(void) {
  mkdir(base, 0755);
  mkdir(path("old-dir"), 0755);
  out_fd = open(path("old-dir/old.txt"), O_CREAT | O_RDWR | O_TRUNC, 0644);
  write(out_fd, "cloud;", 6);
  printf("rename file: %d\n", rename(path("old-dir/old.txt"), path("old-dir/new.txt")));
  printf("rename dir: %d\n", rename(path("old-dir"), path("new-dir")));
  on_edge(6);
  write(out_fd, "cloud again", 11);
  close(out_fd);
  show("new-dir/new.txt on cloud", path("new-dir/new.txt"));
  show("old-dir on cloud", path("old-dir/old.txt"));
  return 0;
}

static int unlinked(void) {
  mkdir(base, 0755);
  out_fd = open(path("scratch.txt"), O_CREAT | O_RDWR | O_TRUNC, 0644);
  write(out_fd, "scratch", 7);
  printf("unlink while open: %d\n", unlink(path("scratch.txt")));
  fflush(stdout);
  on_edge(7);
  printf("on_edge returned?!\n");
  return 1;
}

static void bye(void) {
  printf("atexit ran\n");
}

int main(int argc, char **argv) {
  if (argc < 3) { printf("usage: kafu_files BASE SCENARIO\n"); return 2; }
  base = argv[1];
  const char *how = argv[2];
  if (!strcmp(how, "files")) return files();
  if (!strcmp(how, "nl-open")) return nl_open();
  if (!strcmp(how, "nl-closed")) return nl_closed();
  if (!strcmp(how, "renamed")) return renamed();
  if (!strcmp(how, "unlinked")) return unlinked();
  if (!strcmp(how, "exit")) {
    atexit(bye);
    printf("cloud before exit on edge\n");
    on_edge(5);
    printf("not reached\n");
    return 1;
  }
  printf("unknown scenario %s\n", how);
  return 2;
}

KAFU_DEST(on_edge, "edge")
int on_edge(int step) {
  if (step == 1) {
    char half[HALF];
    for (int i = 0; i < HALF; i++) half[i] = pattern(HALF + i);
    long long at = (long long)lseek(out_fd, 0, SEEK_CUR);
    ssize_t n = write(out_fd, half, HALF);
    printf("edge wrote second half: %zd at offset %lld\n", n, at);
    logline("edge: step 1\n");
    printf("edge listed %d entries\n", next_entries(60));
    show("cloud-only.txt on edge", path("cloud-only.txt"));
    put(path("edge-made.txt"), "written on edge");
    mkdir(path("edge-dir"), 0755);
    put(path("edge-dir/nested.txt"), "nested");
    symlink("edge-made.txt", path("edge-link"));
    printf("unlink on edge: %d\n", unlink(path("to-delete.txt")));
    printf("rename on edge: %d\n", rename(path("to-rename.txt"), path("renamed-on-edge.txt")));
    // Same size, in place: only the bytes change. After a pause of several clock ticks: a same-size write within
    // the tick in which this node received the file goes unnoticed on filesystems with coarse timestamps (a known
    // FollowMount defect, pinned by a todo test in src/wasi/follow-mount.test.ts), and this test is not about it.
    usleep(30000);
    int fd = open(path("overwrite.txt"), O_WRONLY);
    printf("overwrite in place: %zd\n", pwrite(fd, "BBBB", 4, 0));
    close(fd);
    return 1;
  }
  if (step == 2) {
    logline("edge: step 2\n");
    show("log on edge", path("log.txt"));
    return 2;
  }
  if (step == 3) {
    printf("on edge?!\n");
    return 3;
  }
  if (step == 4) {
    list("edge", "/sensors");
    show("edge id", "/sensors/id.txt");
    put("/sensors/edge-note.txt", "seen on edge");
    put(path("edge-was-here.txt"), "edge");
    return 4;
  }
  if (step == 6) {
    printf("edge writes: %zd\n", write(out_fd, "edge;", 5));
    show("new-dir/new.txt on edge", path("new-dir/new.txt"));
    return 6;
  }
  if (step == 7) {
    printf("on edge?!\n");
    return 7;
  }
  printf("edge calls exit(23)\n");
  exit(23);
}
