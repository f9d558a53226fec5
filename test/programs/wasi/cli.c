// For `kafu run` as a process: prints argv, the environment variables named KAFU_T_* (sorted as given), the
// preopens (fd, guest name), and the content of the files named by --cat; exits with --exit's code.
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

extern char **environ;

int main(int argc, char **argv) {
  int code = 0;
  for (int i = 1; i < argc; i++) printf("arg[%d] [%s]\n", i, argv[i]);
  for (char **e = environ; *e; e++) if (!strncmp(*e, "KAFU_T_", 7)) printf("env [%s]\n", *e);
  printf("PATH inherited: %s\n", getenv("PATH") ? "yes" : "no");
  for (__wasi_fd_t fd = 3;; fd++) {
    __wasi_prestat_t ps;
    if (__wasi_fd_prestat_get(fd, &ps) != 0) break;
    char name[256] = {0};
    __wasi_fd_prestat_dir_name(fd, (uint8_t *)name, ps.u.dir.pr_name_len < 255 ? ps.u.dir.pr_name_len : 255);
    printf("preopen %u [%s]\n", (unsigned)fd, name);
  }
  for (int i = 1; i + 1 < argc; i++) {
    if (!strcmp(argv[i], "--cat")) {
      char buf[256] = {0};
      int fd = open(argv[i + 1], O_RDONLY);
      if (fd < 0) { printf("cat %s: %s\n", argv[i + 1], errname(errno)); continue; }
      read(fd, buf, sizeof buf - 1);
      close(fd);
      printf("cat %s: [%s]\n", argv[i + 1], buf);
    } else if (!strcmp(argv[i], "--write")) {
      int fd = open(argv[i + 1], O_CREAT | O_WRONLY | O_TRUNC, 0644);
      if (fd < 0) { printf("write %s: %s\n", argv[i + 1], errname(errno)); continue; }
      write(fd, "from the guest", 14);
      close(fd);
      printf("wrote %s\n", argv[i + 1]);
    } else if (!strcmp(argv[i], "--exit")) {
      code = atoi(argv[i + 1]);
    }
  }
  fflush(stdout);
  if (code) fprintf(stderr, "exiting with %d\n", code);
  return code;
}
