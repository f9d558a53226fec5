// A reactor whose work is split in two exported steps. The test runs step1 on one host, moves linear memory
// and the WASI state to a fresh instance on another host, and runs step2 there: the open FILE*, the
// half-read directory stream and the read offset of a raw fd must all continue where they were.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static FILE *logf;
static DIR *dir;
static int rawfd;
static int seen;

__attribute__((export_name("step1"))) int step1(void) {
  mkdir("/m", 0755);
  for (int i = 0; i < 150; i++) {
    char name[64];
    snprintf(name, sizeof name, "/m/entry_with_a_long_name_%03d", i);
    close(open(name, O_CREAT | O_WRONLY, 0644));
  }
  int w = open("/m/numbers", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  write(w, "0123456789", 10);
  close(w);
  logf = fopen("/m/log.txt", "w");
  fprintf(logf, "written before migration; ");
  fflush(logf);
  dir = opendir("/m");
  for (int i = 0; i < 100; i++) if (readdir(dir)) seen++;
  rawfd = open("/m/numbers", O_RDONLY);
  char b[4] = {0};
  read(rawfd, b, 3);
  printf("step1: read %s, %d entries so far\n", b, seen);
  fflush(stdout);
  return 0;
}

__attribute__((export_name("step2"))) int step2(void) {
  fprintf(logf, "written after migration");
  fclose(logf);
  while (readdir(dir)) seen++;
  closedir(dir);
  char b[16] = {0};
  read(rawfd, b, sizeof b - 1);
  close(rawfd);
  FILE *r = fopen("/m/log.txt", "r");
  char line[128] = {0};
  fgets(line, sizeof line, r);
  fclose(r);
  printf("step2: rest %s, %d entries in all, log: %s\n", b, seen, line);
  fflush(stdout);
  return 0;
}
