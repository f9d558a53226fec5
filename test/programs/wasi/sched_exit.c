// sched_yield and proc_exit: the exit code reaches the host whichever way the program ends (return from main,
// exit() with atexit handlers and stdio flushed, _Exit, raw proc_exit), chosen by argv[1].
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

static void bye(void) { printf("atexit handler ran\n"); }

int main(int argc, char **argv) {
  const char *how = argc > 1 ? argv[1] : "return";
  int code = argc > 2 ? atoi(argv[2]) : 0;
  for (int i = 0; i < 3; i++) CHECK("sched_yield", sched_yield());
  CHECKE("raw sched_yield", __wasi_sched_yield());
  atexit(bye);
  printf("buffered, not flushed: ");
  printf("ending by %s with %d\n", how, code);
  if (!strcmp(how, "exit")) exit(code);
  if (!strcmp(how, "_Exit")) { fflush(stdout); _Exit(code); }
  if (!strcmp(how, "proc_exit")) { fflush(stdout); __wasi_proc_exit(code); }
  if (!strcmp(how, "trap")) { fflush(stdout); __builtin_trap(); }
  return code;
}
