// Behaviour the library OS once got wrong, one scenario per argv[1]; each prints what a correct WASI host gives
// (test/wasi/gaps.test.ts marks a scenario `todo` while src/ gets it wrong).
//   openat-write   a file created with openat() relative to an opened directory can be written
//   notdir         path_* and fd_readdir relative to a regular file fail with ENOTDIR (POSIX, wasmtime)
//   times-ns       file times keep their nanoseconds (the library OS keeps them where a host stores microseconds)
//   readdir-mutate a listing continued by cookie after entries were removed and added still returns every
//                  untouched entry exactly once (also when a migration happens between two fd_readdir calls)
//   rights         fdstat rights of directories and files; fd_fdstat_set_rights drops rights, never adds them
//   link-slash     path_link/path_symlink to a new name with a trailing slash fail with ENOENT (Linux)
//   renumber       fd_renumber onto a number that is not open fails with EBADF (wasmtime)
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

static int openat_write(void) {
  mkdir("/d", 0755);
  int d = open("/d", O_RDONLY | O_DIRECTORY);
  int f = openat(d, "x.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  CHECK("openat O_CREAT|O_WRONLY", f >= 0);
  CHECK("write", write(f, "abc", 3));
  close(f);
  f = openat(d, "x.txt", O_RDWR);
  CHECK("openat O_RDWR write", pwrite(f, "X", 1, 0));
  CHECK("ftruncate", ftruncate(f, 2));
  close(f);
  char buf[8] = {0};
  f = open("/d/x.txt", O_RDONLY);
  read(f, buf, sizeof buf - 1);
  printf("content [%s]\n", buf);
  return 0;
}

static int notdir(void) {
  int f = open("/file.txt", O_CREAT | O_RDWR, 0644);
  __wasi_filestat_t st;
  char buf[64];
  __wasi_size_t n;
  __wasi_fd_t nfd;
  CHECKE("path_open", __wasi_path_open(f, 0, "x", 0, __WASI_RIGHTS_FD_READ, 0, 0, &nfd));
  CHECKE("path_filestat_get", __wasi_path_filestat_get(f, 0, "x", &st));
  CHECKE("path_filestat_set_times", __wasi_path_filestat_set_times(f, 0, "x", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
  CHECKE("path_create_directory", __wasi_path_create_directory(f, "x"));
  CHECKE("path_remove_directory", __wasi_path_remove_directory(f, "x"));
  CHECKE("path_unlink_file", __wasi_path_unlink_file(f, "x"));
  CHECKE("path_readlink", __wasi_path_readlink(f, "x", (uint8_t *)buf, sizeof buf, &n));
  CHECKE("path_symlink", __wasi_path_symlink("t", f, "x"));
  CHECKE("path_rename", __wasi_path_rename(f, "x", 3, "y"));
  CHECKE("path_link", __wasi_path_link(f, 0, "x", 3, "y"));
  CHECKE("fd_readdir", __wasi_fd_readdir(f, (uint8_t *)buf, sizeof buf, 0, &n));
  return 0;
}

static int times_ns(void) {
  int f = open("/t.txt", O_CREAT | O_RDWR, 0644);
  struct timespec ts[2] = {{1234567890, 123456789}, {1300000000, 987654321}};
  CHECK("futimens", futimens(f, ts));
  struct stat s;
  fstat(f, &s);
  printf("atime %lld.%09ld mtime %lld.%09ld\n", (long long)s.st_atim.tv_sec, s.st_atim.tv_nsec,
         (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
  CHECK("utimensat", utimensat(AT_FDCWD, "/t.txt", ts, 0));
  stat("/t.txt", &s);
  printf("atime %lld.%09ld mtime %lld.%09ld\n", (long long)s.st_atim.tv_sec, s.st_atim.tv_nsec,
         (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
  return 0;
}

// Raw listing of fd from `cookie`, at most `max` entries, one fd_readdir call per entry (so that a forced
// migration can fall between any two). Appends names to out; returns the cookie after the last.
static __wasi_dircookie_t take(int fd, __wasi_dircookie_t cookie, int max, char out[][32], int *n) {
  unsigned char buf[128];
  for (int i = 0; i < max; i++) {
    __wasi_size_t used = 0;
    if (__wasi_fd_readdir(fd, buf, sizeof buf, cookie, &used) != 0 || used < sizeof(__wasi_dirent_t)) break;
    __wasi_dirent_t d;
    memcpy(&d, buf, sizeof d);
    snprintf(out[*n], 32, "%.*s", (int)d.d_namlen, (const char *)buf + sizeof d);
    (*n)++;
    cookie = d.d_next;
  }
  return cookie;
}

static void count(char names[][32], int n, int seen[10]) {
  memset(seen, 0, 10 * sizeof seen[0]);
  for (int i = 0; i < n; i++) if (names[i][0] == 'f' && names[i][2] == 0) seen[names[i][1] - '0']++;
}

static int readdir_mutate(void) {
  mkdir("/m", 0755);
  char p[32];
  for (int i = 0; i < 10; i++) {
    snprintf(p, sizeof p, "/m/f%d", i);
    close(open(p, O_CREAT | O_WRONLY, 0644));
  }
  char names[32][32];
  int n = 0, seen[10];
  // Removing entries already listed: the rest must still come, each once.
  int fd = open("/m", O_RDONLY | O_DIRECTORY);
  __wasi_dircookie_t c = take(fd, 0, 6, names, &n); // ".", "..", f0 .. f3
  unlink("/m/f1");
  unlink("/m/f2");
  take(fd, c, 32, names, &n);
  close(fd);
  count(names, n, seen);
  int ok = 1;
  for (int i = 4; i < 10; i++) ok &= seen[i] == 1;
  printf("after removing listed entries, f4..f9 each seen once: %s\n", ok ? "yes" : "no");
  // Adding entries that sort before the cursor: nothing already listed comes again.
  close(open("/m/f1", O_CREAT | O_WRONLY, 0644));
  close(open("/m/f2", O_CREAT | O_WRONLY, 0644));
  n = 0;
  fd = open("/m", O_RDONLY | O_DIRECTORY);
  c = take(fd, 0, 6, names, &n); // ".", "..", f0 .. f3
  close(open("/m/a-new", O_CREAT | O_WRONLY, 0644));
  close(open("/m/b-new", O_CREAT | O_WRONLY, 0644));
  take(fd, c, 32, names, &n);
  close(fd);
  count(names, n, seen);
  ok = 1;
  for (int i = 0; i < 10; i++) ok &= seen[i] == 1;
  printf("after adding entries, f0..f9 each seen once: %s\n", ok ? "yes" : "no");
  return 0;
}


static void rights(const char *label, int fd) {
  __wasi_fdstat_t st;
  int e = __wasi_fd_fdstat_get(fd, &st);
  printf("%s: %s type %d base %#llx inheriting %#llx\n", label, errname(e), st.fs_filetype,
         (unsigned long long)st.fs_rights_base, (unsigned long long)st.fs_rights_inheriting);
}

// Rights as wasmtime reports and enforces them: a directory can neither seek nor read (as a file), a read-only
// file cannot write, and fd_fdstat_set_rights only ever drops rights.
static int rights_scenario(void) {
  close(open("/r.txt", O_CREAT | O_WRONLY, 0644));
  mkdir("/rd", 0755);
  rights("preopen", 3);
  int d = open("/rd", O_RDONLY | O_DIRECTORY);
  rights("opened directory", d);
  char c;
  CHECK("read a directory", read(d, &c, 1));
  CHECK("lseek a directory", lseek(d, 0, SEEK_CUR));
  int r = open("/r.txt", O_RDONLY);
  rights("read-only file", r);
  int w = open("/r.txt", O_WRONLY);
  rights("write-only file", w);
  int rw = open("/r.txt", O_RDWR);
  rights("read-write file", rw);
  CHECKE("grow a read-only file's rights", __wasi_fd_fdstat_set_rights(r, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0));
  CHECK("write after the grow", write(r, "x", 1));
  CHECKE("drop FD_WRITE", __wasi_fd_fdstat_set_rights(rw, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL | __WASI_RIGHTS_FD_FILESTAT_GET, 0));
  rights("after dropping", rw);
  CHECK("write after the drop", write(rw, "x", 1));
  CHECK("read after the drop", read(rw, &c, 1));
  CHECKE("regrow FD_WRITE", __wasi_fd_fdstat_set_rights(rw, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0));
  CHECKE("drop a directory's PATH_OPEN", __wasi_fd_fdstat_set_rights(d, __WASI_RIGHTS_FD_READDIR, __WASI_RIGHTS_FD_READ));
  CHECK("openat after the drop", openat(d, "x", O_CREAT | O_WRONLY, 0644));
  // A right dropped from what a directory passes on: no file opened under it gets it, and a mode needing it fails.
  int d2 = open("/rd", O_RDONLY | O_DIRECTORY);
  close(open("/rd/y.txt", O_CREAT | O_WRONLY, 0644));
  __wasi_fdstat_t st;
  __wasi_fd_fdstat_get(d2, &st);
  CHECKE("drop FD_WRITE from what a directory passes on",
         __wasi_fd_fdstat_set_rights(d2, st.fs_rights_base, st.fs_rights_inheriting & ~__WASI_RIGHTS_FD_WRITE));
  // (wasi-libc's openat asks only for what the directory passes on: the file opens, without the right.)
  int fw = openat(d2, "y.txt", O_WRONLY);
  rights("opened for writing under it", fw);
  CHECK("write through it", write(fw, "x", 1));
  // A path_open that asks for the dropped right itself is refused.
  __wasi_fd_t raw;
  CHECKE("path_open asking for FD_WRITE under it",
         __wasi_path_open(d2, 0, "y.txt", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, 0, &raw));
  rights("read-only file under it", openat(d2, "y.txt", O_RDONLY));
  CHECKE("fd_fdstat_set_rights on stdout", __wasi_fd_fdstat_set_rights(1, 0, 0));
  return 0;
}

// Trailing slashes on the new name of a link or symlink: Linux says ENOENT (the name would have to be a
// directory, which a link to a file cannot be), as wasmtime on Linux does; on an existing name EEXIST.
static int link_slash(void) {
  close(open("/l.txt", O_CREAT | O_WRONLY, 0644));
  CHECKE("path_link to \"n/\"", __wasi_path_link(3, 0, "l.txt", 3, "n/"));
  CHECKE("path_link from \"l.txt/\"", __wasi_path_link(3, 0, "l.txt/", 3, "n2"));
  CHECKE("path_symlink to \"s/\"", __wasi_path_symlink("l.txt", 3, "s/"));
  CHECKE("path_symlink to \"l.txt/\" (exists)", __wasi_path_symlink("x", 3, "l.txt/"));
  struct stat st;
  printf("n exists: %d, s exists: %d\n", lstat("/n", &st) == 0, lstat("/s", &st) == 0);
  return 0;
}

// fd_renumber onto a number that is not open is EBADF (wasmtime); the source stays open.
static int renumber(void) {
  int f = open("/x.txt", O_CREAT | O_RDWR, 0644);
  CHECKE("fd_renumber to closed 40", __wasi_fd_renumber(f, 40));
  CHECK("source still open", write(f, "a", 1));
  CHECK("40 not open", write(40, "a", 1));
  int g = open("/y.txt", O_CREAT | O_RDWR, 0644);
  CHECKE("fd_renumber to open", __wasi_fd_renumber(f, g));
  CHECK("old number closed", write(f, "a", 1));
  CHECK("new number writes x.txt", write(g, "b", 1));
  CHECKE("fd_renumber from closed", __wasi_fd_renumber(f, g));
  return 0;
}

int main(int argc, char **argv) {
  const char *how = argc > 1 ? argv[1] : "";
  if (!strcmp(how, "openat-write")) return openat_write();
  if (!strcmp(how, "notdir")) return notdir();
  if (!strcmp(how, "times-ns")) return times_ns();
  if (!strcmp(how, "readdir-mutate")) return readdir_mutate();
  if (!strcmp(how, "rights")) return rights_scenario();
  if (!strcmp(how, "link-slash")) return link_slash();
  if (!strcmp(how, "renumber")) return renumber();
  printf("unknown scenario %s\n", how);
  return 2;
}
