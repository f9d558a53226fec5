// fd_* on regular files: read/write (plain and vectored), pread/pwrite, seek/tell, fdstat get and set flags,
// filestat get, set size and set times, advise, allocate, sync/datasync, renumber, close; exact errno values.
// Under forced migration every one of these calls is followed by a move to another node, so offsets, flags,
// the append mode and renumbered descriptors must all travel.
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "check.h"

static void show(int fd, const char *label) {
  struct stat st;
  if (fstat(fd, &st) != 0) { printf("%s: fstat %s\n", label, errname(errno)); return; }
  printf("%s: size %lld regular %d nlink %llu\n", label, (long long)st.st_size, S_ISREG(st.st_mode),
         (unsigned long long)st.st_nlink);
}

static void content(const char *path) {
  char buf[128];
  int fd = open(path, O_RDONLY);
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  printf("content of %s (%zd):", path, n);
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] >= 32 && buf[i] < 127) printf("%c", buf[i]);
    else printf("\\%d", buf[i]);
  }
  printf("\n");
}

int main(void) {
  char buf[64];
  int fd = open("/f.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
  printf("open rw fd %d\n", fd);
  CHECK("write", write(fd, "hello world\n", 12));
  CHECK("lseek cur", lseek(fd, 0, SEEK_CUR));
  __wasi_filesize_t pos = 0;
  CHECKE("fd_tell", __wasi_fd_tell(fd, &pos));
  printf("tell %llu\n", (unsigned long long)pos);
  CHECK("lseek set 6", lseek(fd, 6, SEEK_SET));
  memset(buf, 0, sizeof buf);
  CHECK("read 5", read(fd, buf, 5));
  printf("read [%s]\n", buf);
  CHECK("lseek end -1", lseek(fd, -1, SEEK_END));
  CHECK("lseek cur -100", lseek(fd, -100, SEEK_CUR));
  CHECK("lseek bad whence", lseek(fd, 0, 7));
  CHECK("lseek cur after errors", lseek(fd, 0, SEEK_CUR));
  memset(buf, 0, sizeof buf);
  CHECK("pread 0", pread(fd, buf, 5, 0));
  printf("pread [%s]\n", buf);
  CHECK("pwrite 0", pwrite(fd, "HELLO", 5, 0));
  CHECK("offset unchanged by pread/pwrite", lseek(fd, 0, SEEK_CUR));
  CHECK("pread past end", pread(fd, buf, 5, 100));
  CHECK("pwrite past end", pwrite(fd, "tail", 4, 20));
  show(fd, "after hole");
  content("/f.txt");

  struct iovec w[3] = {{"ab", 2}, {"", 0}, {"cdef", 4}};
  CHECK("lseek end", lseek(fd, 0, SEEK_END));
  CHECK("writev", writev(fd, w, 3));
  char r1[3] = {0}, r2[5] = {0};
  struct iovec r[2] = {{r1, 2}, {r2, 4}};
  CHECK("lseek 24", lseek(fd, 24, SEEK_SET));
  CHECK("readv", readv(fd, r, 2));
  printf("readv [%s][%s]\n", r1, r2);
  CHECK("read at end", read(fd, buf, sizeof buf));

  __wasi_fdstat_t fst;
  CHECKE("fdstat", __wasi_fd_fdstat_get(fd, &fst));
  printf("fdstat filetype %d flags %d read %d write %d seek %d\n", fst.fs_filetype, fst.fs_flags,
         (fst.fs_rights_base & __WASI_RIGHTS_FD_READ) != 0, (fst.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0,
         (fst.fs_rights_base & __WASI_RIGHTS_FD_SEEK) != 0);
  CHECK("F_GETFL accmode is O_RDWR", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
  CHECK("F_SETFL O_APPEND", fcntl(fd, F_SETFL, O_APPEND));
  CHECK("F_GETFL has O_APPEND", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
  CHECK("lseek 0 before append", lseek(fd, 0, SEEK_SET));
  CHECK("append write", write(fd, "+", 1));
  CHECK("offset after append", lseek(fd, 0, SEEK_CUR));
  CHECK("pwrite with append ignores offset", pwrite(fd, "#", 1, 0));
  content("/f.txt");
  CHECK("F_SETFL O_NONBLOCK", fcntl(fd, F_SETFL, O_NONBLOCK));
  CHECKE("fdstat after nonblock", __wasi_fd_fdstat_get(fd, &fst));
  printf("flags %d\n", fst.fs_flags);
  CHECKE("set flags DSYNC", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_DSYNC));
  CHECKE("set flags 0", __wasi_fd_fdstat_set_flags(fd, 0));
  CHECK("lseek 0", lseek(fd, 0, SEEK_SET));
  CHECK("write after append cleared", write(fd, "J", 1));
  content("/f.txt");

  CHECK("ftruncate 3", ftruncate(fd, 3));
  show(fd, "after truncate");
  CHECK("offset kept by truncate", lseek(fd, 0, SEEK_CUR));
  CHECK("ftruncate 8", ftruncate(fd, 8));
  content("/f.txt");
  CHECK("ftruncate -1", ftruncate(fd, -1));

  struct timespec ts[2] = {{1000000000, 500000000}, {1234567890, 250000000}};
  CHECK("futimens", futimens(fd, ts));
  struct stat st;
  fstat(fd, &st);
  printf("atime %lld.%09ld mtime %lld.%09ld\n", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
         (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  struct timespec keep[2] = {{0, UTIME_OMIT}, {2000000000, 0}};
  CHECK("futimens omit atime", futimens(fd, keep));
  fstat(fd, &st);
  printf("atime %lld.%09ld mtime %lld.%09ld\n", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
         (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  CHECKE("set times ATIM|ATIM_NOW", __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
  CHECKE("set size raw 5", __wasi_fd_filestat_set_size(fd, 5));
  __wasi_filestat_t fs;
  CHECKE("filestat raw", __wasi_fd_filestat_get(fd, &fs));
  printf("filestat filetype %d size %llu nlink %llu\n", fs.filetype, (unsigned long long)fs.size,
         (unsigned long long)fs.nlink);

  CHECKE("fadvise sequential", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL));
  CHECKE("fadvise dontneed", posix_fadvise(fd, 0, 10, POSIX_FADV_DONTNEED));
  CHECKE("fadvise bad advice", __wasi_fd_advise(fd, 0, 0, 99));
  CHECKE("fallocate", posix_fallocate(fd, 0, 100));
  CHECK("fsync", fsync(fd));
  CHECK("fdatasync", fdatasync(fd));

  // Read-only and write-only descriptors.
  int ro = open("/f.txt", O_RDONLY);
  printf("open ro fd %d\n", ro);
  CHECK("write on read-only", write(ro, "x", 1));
  CHECK("pwrite on read-only", pwrite(ro, "x", 1, 0));
  CHECK("read on read-only", read(ro, buf, 2));
  int wo = open("/f.txt", O_WRONLY);
  printf("open wo fd %d\n", wo);
  CHECK("read on write-only", read(wo, buf, 2));
  CHECK("pread on write-only", pread(wo, buf, 2, 0));
  CHECK("write on write-only", write(wo, "HE", 2));
  CHECK("F_GETFL ro is O_RDONLY", (fcntl(ro, F_GETFL) & O_ACCMODE) == O_RDONLY);
  CHECK("F_GETFL wo is O_WRONLY", (fcntl(wo, F_GETFL) & O_ACCMODE) == O_WRONLY);

  // Renumber: ro becomes wo's number; the old number is closed; offsets and modes go with it.
  int other = open("/g.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
  printf("open other fd %d\n", other);
  CHECK("write other", write(other, "0123456789", 10));
  CHECK("lseek other 4", lseek(other, 4, SEEK_SET));
  CHECKE("renumber other -> wo", __wasi_fd_renumber(other, wo));
  CHECK("old number closed", lseek(other, 0, SEEK_CUR));
  CHECK("renumbered keeps offset", lseek(wo, 0, SEEK_CUR));
  memset(buf, 0, sizeof buf);
  CHECK("read renumbered", read(wo, buf, 3));
  printf("read renumbered [%s]\n", buf);
  CHECKE("renumber from closed fd", __wasi_fd_renumber(other, ro));
  CHECKE("renumber to itself", __wasi_fd_renumber(ro, ro));
  CHECK("ro still readable", pread(ro, buf, 2, 0));

  // Errors on stdio and directories.
  CHECK("lseek stdout", lseek(1, 0, SEEK_CUR));
  CHECK("read preopen dir", read(3, buf, 1));
  CHECK("write preopen dir", write(3, "x", 1));
  CHECK("ftruncate preopen dir", ftruncate(3, 0));
  CHECK("fsync bad fd", fsync(77));
  CHECK("read bad fd", read(77, buf, 1));
  CHECK("fstat bad fd", fstat(77, &st));

  CHECK("close fd", close(fd));
  CHECK("close again", close(fd));
  CHECK("read closed", read(fd, buf, 1));
  CHECK("close ro", close(ro));
  CHECK("close renumbered", close(wo));
  printf("next open gets fd %d\n", open("/f.txt", O_RDONLY));
  content("/f.txt");
  content("/g.txt");
  return 0;
}
