// Exercises the WASI host through wasi-libc the way real programs do. Prints one line per check;
// the test compares the whole output with fileops.expected.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHECK(label, expr) do { errno = 0; long r_ = (long)(expr); printf("%s: %ld %s\n", label, r_, r_ < 0 ? strerror(errno) : "ok"); } while (0)

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  printf("argc %d argv[0] %s argv[1] %s\n", argc, argv[0], argc > 1 ? argv[1] : "-");
  printf("env GREETING=%s MISSING=%s\n", getenv("GREETING"), getenv("MISSING") ? "set" : "(null)");

  FILE *f = fopen("/work/data.txt", "w");
  printf("fopen in missing dir: %s\n", f ? "opened?!" : strerror(errno));
  CHECK("mkdir /work", mkdir("/work", 0755));
  CHECK("mkdir again", mkdir("/work", 0755));
  f = fopen("/work/data.txt", "w+");
  fprintf(f, "line one\nline two\n");
  fseek(f, 5, SEEK_SET);
  char buf[64] = {0};
  fgets(buf, sizeof buf, f);
  printf("after seek: %s", buf);
  printf("ftell %ld\n", ftell(f));
  fclose(f);

  int fd = open("/work/data.txt", O_WRONLY | O_APPEND);
  write(fd, "line three\n", 11);
  close(fd);
  struct stat st;
  CHECK("stat", stat("/work/data.txt", &st));
  printf("size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));

  CHECK("open O_EXCL existing", open("/work/data.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
  CHECK("open missing", open("/work/nope", O_RDONLY));
  CHECK("escape ..", open("/../etc/passwd", O_RDONLY));
  CHECK("escape via dir ..", open("/work/../../etc/passwd", O_RDONLY));
  CHECK("symlink out", symlink("../../../../etc/passwd", "/work/evil"));
  CHECK("open evil", open("/work/evil", O_RDONLY));
  CHECK("symlink in", symlink("data.txt", "/work/alias"));
  char link[64] = {0};
  CHECK("readlink", readlink("/work/alias", link, sizeof link - 1));
  printf("link -> %s\n", link);
  fd = open("/work/alias", O_RDONLY);
  memset(buf, 0, sizeof buf);
  read(fd, buf, 8);
  printf("through alias: %s\n", buf);
  close(fd);

  CHECK("truncate", truncate("/work/data.txt", 4));
  stat("/work/data.txt", &st);
  printf("size after truncate %lld\n", (long long)st.st_size);

  for (int i = 0; i < 150; i++) {
    char name[64];
    snprintf(name, sizeof name, "/work/entry_with_a_long_name_%03d", i);
    close(open(name, O_CREAT | O_WRONLY, 0644));
  }
  DIR *d = opendir("/work");
  char *names[200];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < 200) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof names[0], cmp);
  printf("readdir %d entries, first %s %s %s, last %s\n", n, names[0], names[1], names[2], names[n - 1]);

  CHECK("rmdir non-empty", rmdir("/work"));
  CHECK("rename", rename("/work/data.txt", "/moved.txt"));
  CHECK("access old", access("/work/data.txt", F_OK));
  CHECK("access new", access("/moved.txt", F_OK));
  CHECK("unlink dir", unlink("/work"));

  struct timespec a, b, req = {0, 30 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &a);
  nanosleep(&req, NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  printf("slept at least 30ms: %s\n", ms >= 29 ? "yes" : "no");
  time_t now = time(NULL);
  printf("time plausible: %s\n", now > 1600000000 ? "yes" : "no");
  fflush(stdout);
  fprintf(stderr, "to stderr\n");
  return 7;
}
