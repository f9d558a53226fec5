// poll_oneoff: clock subscriptions (relative and absolute, the earliest wins), fd_read/fd_write subscriptions on
// files and stdio (ready at once, nbytes = bytes left), mixed subscriptions, and the errors; libc's poll() too.
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static __wasi_timestamp_t mono(void) {
  __wasi_timestamp_t t = 0;
  __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
  return t;
}

static __wasi_subscription_t clock_sub(__wasi_userdata_t ud, __wasi_timestamp_t timeout, int abs) {
  __wasi_subscription_t s;
  memset(&s, 0, sizeof s);
  s.userdata = ud;
  s.u.tag = __WASI_EVENTTYPE_CLOCK;
  s.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  s.u.u.clock.timeout = timeout;
  s.u.u.clock.flags = abs ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
  return s;
}

static __wasi_subscription_t fd_sub(__wasi_userdata_t ud, __wasi_eventtype_t type, int fd) {
  __wasi_subscription_t s;
  memset(&s, 0, sizeof s);
  s.userdata = ud;
  s.u.tag = type;
  s.u.u.fd_read.file_descriptor = fd;
  return s;
}

static void show(const char *label, __wasi_errno_t e, __wasi_event_t *ev, __wasi_size_t n) {
  printf("%s: %s, %u events", label, errname(e), (unsigned)n);
  for (__wasi_size_t i = 0; i < n && e == 0; i++) {
    printf(" [ud %llu type %d error %s", (unsigned long long)ev[i].userdata, ev[i].type, errname(ev[i].error));
    if (ev[i].type != __WASI_EVENTTYPE_CLOCK) {
      printf(" nbytes %llu hangup %d", (unsigned long long)ev[i].fd_readwrite.nbytes,
             (ev[i].fd_readwrite.flags & __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP) != 0);
    }
    printf("]");
  }
  printf("\n");
}

int main(void) {
  __wasi_subscription_t subs[4];
  __wasi_event_t ev[4];
  __wasi_size_t n = 0;
  __wasi_errno_t e;

  // One relative clock: waits at least its timeout.
  subs[0] = clock_sub(7, 20 * 1000000ull, 0);
  __wasi_timestamp_t t0 = mono();
  e = __wasi_poll_oneoff(subs, ev, 1, &n);
  __wasi_timestamp_t dt = mono() - t0;
  show("clock 20ms", e, ev, n);
  printf("waited at least 20ms: %s\n", dt >= 20 * 1000000ull ? "yes" : "no");

  // Two clocks: only the earlier fires.
  subs[0] = clock_sub(1, 500 * 1000000ull, 0);
  subs[1] = clock_sub(2, 5 * 1000000ull, 0);
  t0 = mono();
  e = __wasi_poll_oneoff(subs, ev, 2, &n);
  dt = mono() - t0;
  show("clocks 500ms and 5ms", e, ev, n);
  printf("returned before 400ms: %s\n", dt < 400 * 1000000ull ? "yes" : "no");

  // Absolute deadlines: one in the past fires at once; one 15ms ahead is waited for.
  subs[0] = clock_sub(3, 1, 1);
  e = __wasi_poll_oneoff(subs, ev, 1, &n);
  show("abstime in the past", e, ev, n);
  __wasi_timestamp_t deadline = mono() + 15 * 1000000ull;
  subs[0] = clock_sub(4, deadline, 1);
  e = __wasi_poll_oneoff(subs, ev, 1, &n);
  printf("after abstime deadline: %s\n", mono() >= deadline ? "yes" : "no");
  show("abstime ahead", e, ev, n);

  // fd subscriptions on a file: readable with the bytes left; writable; a clock beside them does not fire.
  int fd = open("/p.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
  write(fd, "0123456789", 10);
  lseek(fd, 3, SEEK_SET);
  subs[0] = fd_sub(10, __WASI_EVENTTYPE_FD_READ, fd);
  subs[1] = fd_sub(11, __WASI_EVENTTYPE_FD_WRITE, fd);
  subs[2] = clock_sub(12, 1000 * 1000000ull, 0);
  t0 = mono();
  e = __wasi_poll_oneoff(subs, ev, 3, &n);
  dt = mono() - t0;
  show("file read+write+clock", e, ev, n);
  printf("did not wait for the clock: %s\n", dt < 500 * 1000000ull ? "yes" : "no");
  lseek(fd, 0, SEEK_END);
  e = __wasi_poll_oneoff(subs, ev, 1, &n);
  show("file read at end", e, ev, n);

  // stdout is writable.
  subs[0] = fd_sub(20, __WASI_EVENTTYPE_FD_WRITE, 1);
  e = __wasi_poll_oneoff(subs, ev, 1, &n);
  show("stdout write", e, ev, n);

  // Errors.
  e = __wasi_poll_oneoff(subs, ev, 0, &n);
  printf("no subscriptions: %s\n", errname(e));
  subs[0] = fd_sub(30, __WASI_EVENTTYPE_FD_READ, 99);
  subs[1] = clock_sub(31, 1000000ull, 0);
  e = __wasi_poll_oneoff(subs, ev, 2, &n);
  printf("bad fd: %s", errname(e));
  if (e == 0) printf(", %u events, first ud %llu error %s", (unsigned)n, (unsigned long long)ev[0].userdata, errname(ev[0].error));
  printf("\n");
  e = __wasi_poll_oneoff(subs, (__wasi_event_t *)0xfffffff0, 1, &n);
  printf("events out of bounds: %s\n", errname(e));

  // libc poll() over the same descriptors.
  struct pollfd p[2] = {{fd, POLLRDNORM, 0}, {1, POLLWRNORM, 0}};
  lseek(fd, 0, SEEK_SET);
  CHECK("poll file+stdout", poll(p, 2, 0));
  printf("revents file %s stdout %s\n", p[0].revents & POLLRDNORM ? "readable" : "-", p[1].revents & POLLWRNORM ? "writable" : "-");
  t0 = mono();
  CHECK("poll nothing 10ms", poll(NULL, 0, 10));
  printf("poll timeout waited at least 10ms: %s\n", mono() - t0 >= 10 * 1000000ull ? "yes" : "no");
  close(fd);
  return 0;
}
