// Shared by test programs that write small files and print what they read back, one line per file.
#ifndef KAFU_TEST_FILE_LINES_H
#define KAFU_TEST_FILE_LINES_H
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/** Write `text` as the whole of file `p`, or say why not. */
static void put(const char *p, const char *text) {
  int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) { printf("cannot create %s: %s\n", p, strerror(errno)); return; }
  write(fd, text, strlen(text));
  close(fd);
}

/** Print "WHERE: P: [contents]", or the error opening it. */
static void show(const char *where, const char *p) {
  char buf[128] = {0};
  int fd = open(p, O_RDONLY);
  if (fd < 0) { printf("%s: %s: %s\n", where, p, strerror(errno)); return; }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  printf("%s: %s: [%.*s]\n", where, p, (int)(n < 0 ? 0 : n), buf);
}
#endif
