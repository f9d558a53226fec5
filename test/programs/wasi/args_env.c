// args_* and environ_*: argv and the environment exactly as the host gave them, through wasi-libc and raw WASI.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

extern char **environ;

int main(int argc, char **argv) {
  printf("argc %d\n", argc);
  for (int i = 0; i < argc; i++) printf("argv[%d] [%s] len %zu\n", i, argv[i], strlen(argv[i]));
  printf("argv[argc] %s\n", argv[argc] == NULL ? "NULL" : "set?!");

  __wasi_size_t n = 0, size = 0;
  printf("args_sizes_get %d\n", __wasi_args_sizes_get(&n, &size));
  size_t want = 0;
  for (int i = 0; i < argc; i++) want += strlen(argv[i]) + 1;
  printf("args count %lu size %lu expected %zu\n", (unsigned long)n, (unsigned long)size, want);

  // Raw args_get into our own buffers: pointers inside the buffer, NUL-terminated.
  char **ptrs = malloc((n + 1) * sizeof *ptrs);
  char *buf = malloc(size);
  printf("args_get %d\n", __wasi_args_get((uint8_t **)ptrs, (uint8_t *)buf));
  int same = 1;
  for (__wasi_size_t i = 0; i < n; i++) {
    same &= strcmp(ptrs[i], argv[i]) == 0;
    same &= ptrs[i] >= buf && ptrs[i] < buf + size;
  }
  printf("raw args match libc: %s\n", same ? "yes" : "no");

  int envc = 0;
  for (char **e = environ; *e; e++) printf("environ[%d] [%s]\n", envc++, *e);
  printf("environ count %d\n", envc);
  printf("environ_sizes_get %d\n", __wasi_environ_sizes_get(&n, &size));
  want = 0;
  for (char **e = environ; *e; e++) want += strlen(*e) + 1;
  printf("environ count %lu size %lu expected %zu\n", (unsigned long)n, (unsigned long)size, want);
  char **eptrs = malloc((n + 1) * sizeof *eptrs);
  char *ebuf = malloc(size ? size : 1);
  printf("environ_get %d\n", __wasi_environ_get((uint8_t **)eptrs, (uint8_t *)ebuf));
  same = 1;
  for (__wasi_size_t i = 0; i < n; i++) same &= strcmp(eptrs[i], environ[i]) == 0;
  printf("raw environ match libc: %s\n", same ? "yes" : "no");

  printf("getenv GREETING [%s]\n", getenv("GREETING") ? getenv("GREETING") : "(null)");
  printf("getenv EMPTY [%s]\n", getenv("EMPTY") ? getenv("EMPTY") : "(null)");
  printf("getenv WITH_EQ [%s]\n", getenv("WITH_EQ") ? getenv("WITH_EQ") : "(null)");
  printf("getenv UNICODE [%s]\n", getenv("UNICODE") ? getenv("UNICODE") : "(null)");
  printf("getenv MISSING %s\n", getenv("MISSING") ? "set?!" : "(null)");
  // The environment is the program's own after start: changes stay in linear memory and travel with it.
  setenv("ADDED", "later", 1);
  printf("getenv ADDED [%s]\n", getenv("ADDED"));
  return argc;
}
