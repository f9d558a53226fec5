// clock_time_get / clock_res_get: realtime is the wall clock, monotonic never goes backwards (also across a
// migration after every call), resolutions are positive, CPU-time and unknown clocks give exact errors, and a
// sleep of d lasts at least d on the monotonic clock.
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

int main(void) {
  __wasi_timestamp_t res = 0, t = 0;
  CHECKE("res realtime", __wasi_clock_res_get(__WASI_CLOCKID_REALTIME, &res));
  printf("realtime res positive and at most 1ms: %s\n", res > 0 && res <= 1000000 ? "yes" : "no");
  CHECKE("res monotonic", __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res));
  printf("monotonic res positive and at most 1ms: %s\n", res > 0 && res <= 1000000 ? "yes" : "no");
  CHECKE("res process cputime", __wasi_clock_res_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, &res));
  CHECKE("res thread cputime", __wasi_clock_res_get(__WASI_CLOCKID_THREAD_CPUTIME_ID, &res));
  CHECKE("res unknown clock", __wasi_clock_res_get(17, &res));
  CHECKE("time process cputime", __wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 1, &t));
  CHECKE("time unknown clock", __wasi_clock_time_get(17, 1, &t));
  CHECKE("time bad pointer", __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, (__wasi_timestamp_t *)0xfffffffc));

  struct timespec r;
  CHECK("clock_getres monotonic", clock_getres(CLOCK_MONOTONIC, &r));
  printf("clock_getres positive: %s\n", r.tv_sec > 0 || r.tv_nsec > 0 ? "yes" : "no");

  // Realtime: after 2020 and before 2200; time() and clock_gettime agree to the second.
  struct timespec rt;
  CHECK("clock_gettime realtime", clock_gettime(CLOCK_REALTIME, &rt));
  time_t now = time(NULL);
  printf("realtime plausible: %s\n", rt.tv_sec > 1577836800 && rt.tv_sec < 7258118400LL ? "yes" : "no");
  printf("time() agrees: %s\n", now - rt.tv_sec >= 0 && now - rt.tv_sec <= 2 ? "yes" : "no");

  // Monotonic: 200 readings, each a separate WASI call; none earlier than the one before.
  __wasi_timestamp_t prev = 0, first = 0;
  int backwards = 0, errors = 0;
  for (int i = 0; i < 200; i++) {
    __wasi_timestamp_t m = 0;
    errors += __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &m) != 0;
    if (i == 0) first = m;
    if (m < prev) backwards++;
    prev = m;
  }
  printf("monotonic: %d errors, %d times backwards, advanced: %s\n", errors, backwards, prev > first ? "yes" : "no");

  // Sleeps measured on the monotonic clock.
  struct timespec a, b, req = {0, 25 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &a);
  CHECK("nanosleep 25ms", nanosleep(&req, NULL));
  clock_gettime(CLOCK_MONOTONIC, &b);
  int64_t ns = (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec);
  printf("nanosleep lasted at least 25ms: %s, less than 2s: %s\n", ns >= 25000000 ? "yes" : "no", ns < 2000000000 ? "yes" : "no");
  clock_gettime(CLOCK_MONOTONIC, &a);
  CHECK("usleep 15000", usleep(15000));
  clock_gettime(CLOCK_MONOTONIC, &b);
  ns = (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec);
  printf("usleep lasted at least 15ms: %s\n", ns >= 15000000 ? "yes" : "no");
  // clock_nanosleep to an absolute monotonic deadline.
  clock_gettime(CLOCK_MONOTONIC, &a);
  struct timespec until = a;
  until.tv_nsec += 20 * 1000 * 1000;
  if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
  CHECKE("clock_nanosleep abstime", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL));
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("woke after the deadline: %s\n", b.tv_sec > until.tv_sec || (b.tv_sec == until.tv_sec && b.tv_nsec >= until.tv_nsec) ? "yes" : "no");
  return 0;
}
