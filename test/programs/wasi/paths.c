// path_*: create_directory, filestat get/set times, link, open (O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY),
// readlink, remove_directory, rename, symlink, unlink — results and exact errno values, one line per check.
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

static const char *kind(mode_t m) {
  return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "symlink" : "other";
}

static void st(const char *label, const char *path, int flags) {
  struct stat s;
  errno = 0;
  if (fstatat(AT_FDCWD, path, &s, flags) != 0) { printf("%s: %s\n", label, errname(errno)); return; }
  if (S_ISDIR(s.st_mode)) printf("%s: dir\n", label);
  else printf("%s: %s size %lld nlink %llu\n", label, kind(s.st_mode), (long long)s.st_size, (unsigned long long)s.st_nlink);
}

static void content(const char *path) {
  char buf[128] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) { printf("content of %s: %s\n", path, errname(errno)); return; }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  printf("content of %s: [%s] %zd\n", path, buf, n);
}

static void put(const char *path, const char *text) {
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  write(fd, text, strlen(text));
  close(fd);
}

int main(void) {
  // path_create_directory
  CHECK("mkdir /d", mkdir("/d", 0755));
  CHECK("mkdir /d again", mkdir("/d", 0755));
  CHECK("mkdir /d/sub", mkdir("/d/sub", 0755));
  CHECK("mkdir missing parent", mkdir("/nope/x", 0755));
  put("/d/a.txt", "alpha");
  CHECK("mkdir under a file", mkdir("/d/a.txt/x", 0755));
  CHECK("mkdir over a file", mkdir("/d/a.txt", 0755));
  CHECK("mkdir trailing slash", mkdir("/d/t/", 0755));
  st("stat /d/t", "/d/t", 0);

  // path_open
  int fd = open("/d/new.txt", O_CREAT | O_EXCL | O_WRONLY, 0644);
  CHECK("O_CREAT|O_EXCL new", fd >= 0);
  CHECK("write new", write(fd, "0123456789", 10));
  close(fd);
  CHECK("O_CREAT|O_EXCL existing", open("/d/new.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
  CHECK("O_CREAT|O_EXCL on a dir", open("/d/sub", O_CREAT | O_EXCL | O_WRONLY, 0644));
  CHECK("O_CREAT existing keeps data", (fd = open("/d/new.txt", O_CREAT | O_WRONLY, 0644)) >= 0);
  close(fd);
  st("stat new", "/d/new.txt", 0);
  fd = open("/d/new.txt", O_WRONLY | O_APPEND);
  CHECK("O_APPEND write", write(fd, "ab", 2));
  CHECK("O_APPEND offset", lseek(fd, 0, SEEK_CUR));
  close(fd);
  content("/d/new.txt");
  fd = open("/d/new.txt", O_RDWR | O_TRUNC);
  CHECK("O_TRUNC open", fd >= 0);
  st("stat after O_TRUNC", "/d/new.txt", 0);
  CHECK("write after trunc", write(fd, "xyz", 3));
  close(fd);
  content("/d/new.txt");
  CHECK("open missing", open("/d/missing", O_RDONLY));
  CHECK("open missing parent O_CREAT", open("/nope/x", O_CREAT | O_WRONLY, 0644));
  CHECK("open file as dir O_DIRECTORY", open("/d/a.txt", O_RDONLY | O_DIRECTORY));
  CHECK("open file with trailing slash", open("/d/a.txt/", O_RDONLY));
  CHECK("open through a file", open("/d/a.txt/x", O_RDONLY));
  int dfd = open("/d/sub", O_RDONLY | O_DIRECTORY);
  CHECK("open dir O_DIRECTORY", dfd >= 0);
  CHECK("open dir O_WRONLY", open("/d/sub", O_WRONLY));
  CHECK("open dir O_RDWR", open("/d/sub", O_RDWR));
  CHECK("O_CREAT dir with trailing slash", open("/d/newdir/", O_CREAT | O_WRONLY, 0644));
  // (Writing through a file created with openat(dfd, …): see gaps.c, openat-write.)
  CHECK("openat relative to dir fd", (fd = openat(dfd, "inner.txt", O_CREAT | O_RDONLY, 0644)) >= 0);
  close(fd);
  content("/d/sub/inner.txt");
  CHECK("openat .. above dir fd", openat(dfd, "../a.txt", O_RDONLY));
  CHECK("openat absolute from dir fd", openat(dfd, "/d/a.txt", O_RDONLY) >= 0);
  CHECK("close dir fd", close(dfd));

  // path_symlink and path_readlink
  CHECK("symlink", symlink("a.txt", "/d/link"));
  CHECK("symlink again", symlink("a.txt", "/d/link"));
  CHECK("symlink dangling", symlink("no-such-target", "/d/dangling"));
  CHECK("symlink to dir", symlink("sub", "/d/sublink"));
  CHECK("symlink over a dir", symlink("a.txt", "/d/sub"));
  char lb[64] = {0};
  CHECK("readlink", readlink("/d/link", lb, sizeof lb - 1));
  printf("readlink [%s]\n", lb);
  memset(lb, 0, sizeof lb);
  CHECK("readlink short buffer", readlink("/d/link", lb, 3));
  printf("readlink short [%s]\n", lb);
  CHECK("readlink a file", readlink("/d/a.txt", lb, sizeof lb));
  CHECK("readlink missing", readlink("/d/missing", lb, sizeof lb));
  st("stat link (follow)", "/d/link", 0);
  st("lstat link", "/d/link", AT_SYMLINK_NOFOLLOW);
  st("stat dangling", "/d/dangling", 0);
  st("lstat dangling", "/d/dangling", AT_SYMLINK_NOFOLLOW);
  st("stat through dir link", "/d/sublink/inner.txt", 0);
  content("/d/link");
  CHECK("O_NOFOLLOW on link", open("/d/link", O_RDONLY | O_NOFOLLOW));
  CHECK("O_DIRECTORY|O_NOFOLLOW on dir link", open("/d/sublink", O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  CHECK("O_CREAT through dangling link", open("/d/dangling", O_CREAT | O_WRONLY, 0644) >= 0);
  st("dangling target created", "/d/no-such-target", 0);

  // path_filestat_get / path_filestat_set_times
  struct timespec ts[2] = {{1100000000, 0}, {1200000000, 500000000}};
  CHECK("utimensat file", utimensat(AT_FDCWD, "/d/a.txt", ts, 0));
  struct stat s;
  stat("/d/a.txt", &s);
  printf("a.txt atime %lld.%09ld mtime %lld.%09ld\n", (long long)s.st_atim.tv_sec, s.st_atim.tv_nsec,
         (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
  struct timespec lts[2] = {{1300000000, 0}, {1400000000, 0}};
  CHECK("utimensat link nofollow", utimensat(AT_FDCWD, "/d/link", lts, AT_SYMLINK_NOFOLLOW));
  lstat("/d/link", &s);
  printf("link mtime %lld\n", (long long)s.st_mtim.tv_sec);
  stat("/d/a.txt", &s);
  printf("target mtime unchanged %lld\n", (long long)s.st_mtim.tv_sec);
  CHECK("utimensat link follow", utimensat(AT_FDCWD, "/d/link", lts, 0));
  stat("/d/a.txt", &s);
  printf("target mtime now %lld\n", (long long)s.st_mtim.tv_sec);
  CHECK("utimensat dir", utimensat(AT_FDCWD, "/d/sub", ts, 0));
  stat("/d/sub", &s);
  printf("dir mtime %lld\n", (long long)s.st_mtim.tv_sec);
  CHECK("utimensat missing", utimensat(AT_FDCWD, "/d/missing", ts, 0));
  CHECKE("set times MTIM|MTIM_NOW", __wasi_path_filestat_set_times(3, 0, "d/a.txt", 0, 0,
                                                                   __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW));
  __wasi_filestat_t fs;
  CHECKE("path_filestat_get nofollow", __wasi_path_filestat_get(3, 0, "d/link", &fs));
  printf("filetype %d\n", fs.filetype);
  CHECKE("path_filestat_get follow", __wasi_path_filestat_get(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "d/link", &fs));
  printf("filetype %d size %llu\n", fs.filetype, (unsigned long long)fs.size);
  CHECKE("path_filestat_get missing", __wasi_path_filestat_get(3, 0, "d/missing", &fs));
  CHECKE("path_filestat_get on a file fd", __wasi_path_filestat_get(1, 0, "x", &fs));

  // path_link
  CHECK("link", link("/d/a.txt", "/d/hard"));
  st("stat hard", "/d/hard", 0);
  st("stat a.txt after link", "/d/a.txt", 0);
  CHECK("link existing target", link("/d/a.txt", "/d/new.txt"));
  CHECK("link a dir", link("/d/sub", "/d/subhard"));
  CHECK("link missing", link("/d/missing", "/d/x"));
  CHECK("link into missing dir", link("/d/a.txt", "/nope/x"));
  CHECK("linkat symlink nofollow", linkat(AT_FDCWD, "/d/link", AT_FDCWD, "/d/linkhard", 0));
  st("lstat linkhard", "/d/linkhard", AT_SYMLINK_NOFOLLOW);
  CHECK("linkat symlink follow", linkat(AT_FDCWD, "/d/link", AT_FDCWD, "/d/followhard", AT_SYMLINK_FOLLOW));
  st("lstat followhard", "/d/followhard", AT_SYMLINK_NOFOLLOW);
  put("/d/hard", "changed through hard link");
  content("/d/a.txt");

  // path_rename
  CHECK("rename file", rename("/d/new.txt", "/d/renamed.txt"));
  st("old name", "/d/new.txt", 0);
  content("/d/renamed.txt");
  put("/d/victim.txt", "victim");
  CHECK("rename over a file", rename("/d/renamed.txt", "/d/victim.txt"));
  content("/d/victim.txt");
  CHECK("rename missing", rename("/d/missing", "/d/x"));
  CHECK("rename file over a dir", rename("/d/victim.txt", "/d/sub"));
  CHECK("mkdir /d/e", mkdir("/d/e", 0755));
  CHECK("rename dir over a file", rename("/d/e", "/d/victim.txt"));
  CHECK("rename dir over a non-empty dir", rename("/d/e", "/d/sub"));
  CHECK("mkdir /d/empty", mkdir("/d/empty", 0755));
  CHECK("rename dir over an empty dir", rename("/d/e", "/d/empty"));
  st("/d/e after", "/d/e", 0);
  CHECK("rename dir into itself", rename("/d/sub", "/d/sub/inside"));
  CHECK("rename dir", rename("/d/sub", "/d/sub2"));
  content("/d/sub2/inner.txt");
  CHECK("rename into missing dir", rename("/d/victim.txt", "/nope/x"));
  CHECK("rename file with trailing slash target", rename("/d/victim.txt", "/d/v2/"));
  CHECK("rename a symlink", rename("/d/link", "/d/link2"));
  content("/d/link2");

  // path_unlink_file
  CHECK("unlink file", unlink("/d/victim.txt"));
  CHECK("unlink again", unlink("/d/victim.txt"));
  CHECK("unlink a dir", unlink("/d/sub2"));
  CHECK("unlink with trailing slash", unlink("/d/a.txt/"));
  CHECK("unlink a symlink", unlink("/d/link2"));
  st("target kept", "/d/a.txt", 0);
  CHECK("unlink dir symlink", unlink("/d/sublink"));
  st("dir kept", "/d/sub2", 0);

  // path_remove_directory
  CHECK("rmdir non-empty", rmdir("/d/sub2"));
  CHECK("rmdir a file", rmdir("/d/a.txt"));
  CHECK("rmdir missing", rmdir("/d/missing"));
  CHECK("rmdir empty", rmdir("/d/empty"));
  CHECK("rmdir again", rmdir("/d/empty"));
  CHECK("unlink inner", unlink("/d/sub2/inner.txt"));
  CHECK("rmdir now empty", rmdir("/d/sub2"));
  CHECK("rmdir /d/t", rmdir("/d/t"));

  // Errors on descriptors that are not directories.
  CHECKE("path_create_directory on stdout", __wasi_path_create_directory(1, "x"));
  CHECKE("path_create_directory on bad fd", __wasi_path_create_directory(99, "x"));
  fd = open("/d/a.txt", O_RDONLY);
  CHECKE("path_open relative to a file fd", __wasi_path_open(fd, 0, "x", 0, __WASI_RIGHTS_FD_READ, 0, 0, &(__wasi_fd_t){0}));
  close(fd);
  CHECKE("path_open empty path", __wasi_path_open(3, 0, "", 0, __WASI_RIGHTS_FD_READ, 0, 0, &(__wasi_fd_t){0}));
  CHECKE("O_DIRECTORY with O_CREAT", __wasi_path_open(3, 0, "d/zz", __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_CREAT,
                                                     __WASI_RIGHTS_FD_READ, 0, 0, &(__wasi_fd_t){0}));
  return 0;
}
