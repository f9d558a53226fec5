// Guest values a host API cannot take as they are (offsets at and past 2^53 and 2^63, sizes, exit codes), one
// scenario per argv[1]; each prints what Linux (and wasmtime on it) gives, and what the file holds afterwards, so
// that a host which clamps, wraps or writes "at the current position" instead shows up in the output.
//   offsets    fd_pwrite/fd_pread/fd_filestat_set_size/lseek+write at offsets the host cannot represent
//   rw-caps    a read into more than 2 GiB of iovecs is a plain short read (Linux caps a call at 0x7ffff000 bytes)
//   exit-256   proc_exit(256): a code the host cannot represent (wasmtime: an error, not exit 0)
//   times      file times up to 2^64 - 1 ns read back exactly (node:fs stores them to a double of seconds)
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

static void show(int f) {
  struct stat s;
  fstat(f, &s);
  char buf[32] = {0};
  ssize_t n = pread(f, buf, sizeof buf - 1, 0);
  printf("size %lld content [%.*s]\n", (long long)s.st_size, (int)(n < 0 ? 0 : n), buf);
}

static void pwrite_at(int f, const char *label, uint64_t off) {
  __wasi_ciovec_t iov = {(const uint8_t *)"X", 1};
  __wasi_size_t n = 0;
  CHECKE(label, __wasi_fd_pwrite(f, &iov, 1, off, &n));
}

static void pread_at(int f, const char *label, uint64_t off) {
  char c;
  __wasi_iovec_t iov = {(uint8_t *)&c, 1};
  __wasi_size_t n = 7;
  int e = __wasi_fd_pread(f, &iov, 1, off, &n);
  printf("%s: %s n=%u\n", label, errname(e), e == 0 ? (unsigned)n : 0u);
}

static int offsets(void) {
  int f = open("/big.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
  CHECK("write", write(f, "abc", 3));
  pwrite_at(f, "fd_pwrite 2^62", 1ull << 62);
  pwrite_at(f, "fd_pwrite 2^60", 1ull << 60);
  pwrite_at(f, "fd_pwrite 2^53+1", (1ull << 53) + 1);
  pwrite_at(f, "fd_pwrite 2^63", 1ull << 63);
  pwrite_at(f, "fd_pwrite 2^64-1", UINT64_MAX);
  show(f);
  CHECK("pwrite 2^60", pwrite(f, "Y", 1, 1ll << 60));
  CHECK("lseek 2^63-2", lseek(f, INT64_MAX - 1, SEEK_SET) == INT64_MAX - 1 ? 0 : -1);
  CHECK("write at 2^63-2", write(f, "Z", 1));
  CHECK("lseek back", lseek(f, 0, SEEK_CUR) == INT64_MAX - 1 ? 0 : -1);
  show(f);
  pread_at(f, "fd_pread 2^63", 1ull << 63);
  pread_at(f, "fd_pread 2^64-1", UINT64_MAX);
  pread_at(f, "fd_pread 2^60", 1ull << 60);
  pread_at(f, "fd_pread 1", 1);
  CHECKE("fd_filestat_set_size 2^63", __wasi_fd_filestat_set_size(f, 1ull << 63));
  CHECKE("fd_filestat_set_size 2^64-1", __wasi_fd_filestat_set_size(f, UINT64_MAX));
  CHECKE("fd_filestat_set_size 2^60", __wasi_fd_filestat_set_size(f, 1ull << 60));
  CHECKE("fd_filestat_set_size 2", __wasi_fd_filestat_set_size(f, 2));
  show(f);
  close(f);
  return 0;
}

static int rw_caps(void) {
  // Iovecs of 2 GiB + 16 bytes over fresh pages straight from memory.grow (malloc refuses a block this large);
  // reading a 3-byte file touches one page. A host API that takes at most 2^31 - 1 bytes a call must get less.
  size_t big = (size_t)1 << 31;
  size_t first = __builtin_wasm_memory_grow(0, big / 65536 + 1);
  if (first == (size_t)-1) { printf("memory.grow failed\n"); return 1; }
  char *buf = (char *)(first * 65536);
  int f = open("/caps.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
  CHECK("write", write(f, "abc", 3));
  __wasi_iovec_t iov[2] = {{(uint8_t *)buf, big}, {(uint8_t *)buf, 16}};
  __wasi_size_t n = 0;
  int e = __wasi_fd_pread(f, iov, 2, 0, &n);
  printf("fd_pread 2 GiB + 16: %s n=%u [%.3s]\n", errname(e), (unsigned)n, buf);
  lseek(f, 1, SEEK_SET);
  e = __wasi_fd_read(f, iov, 2, &n);
  printf("fd_read 2 GiB + 16: %s n=%u [%.2s]\n", errname(e), (unsigned)n, buf);
  close(f);
  return 0;
}


static void times_at(int f, const char *label, uint64_t t) {
  int e = __wasi_fd_filestat_set_times(f, t, t, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM);
  __wasi_filestat_t st;
  (void)__wasi_fd_filestat_get(f, &st);
  printf("%s: %s mtim %s\n", label, errname(e), e ? "-" : st.mtim == t ? "exact" : "changed");
}

static int times(void) {
  int f = open("/t.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
  times_at(f, "set_times 2^62 ns", 1ull << 62);
  times_at(f, "set_times 2^63 ns", 1ull << 63);
  times_at(f, "set_times 2^64-1 ns", UINT64_MAX);
  times_at(f, "set_times 1 ns", 1);
  close(f);
  return 0;
}

int main(int argc, char **argv) {
  const char *s = argc > 1 ? argv[1] : "";
  if (!strcmp(s, "offsets")) return offsets();
  if (!strcmp(s, "rw-caps")) return rw_caps();
  if (!strcmp(s, "times")) return times();
  if (!strcmp(s, "exit-256")) {
    printf("exiting with 256\n");
    fflush(stdout);
    __wasi_proc_exit(256);
  }
  printf("unknown scenario %s\n", s);
  return 2;
}
