// Sandbox escapes: every way out of the preopened "/" must fail, and nothing outside may be read, written,
// created, renamed, linked or removed. argv[1] is the host path of a folder outside the sandbox that the test
// watches; the mount holds links the host planted (see the test): abs_link -> argv[1]/secret.txt,
// abs_dir_link -> argv[1], rel_link -> ../../../../../../../../../../etc/hostname, dir/up_link -> ../../outside,
// dir/ok_link -> ../inside.txt, loop_a <-> loop_b.
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

static void st(const char *label, const char *path, int flags) {
  struct stat s;
  errno = 0;
  if (fstatat(AT_FDCWD, path, &s, flags) != 0) printf("%s: %s\n", label, errname(errno));
  else printf("%s: %s\n", label, S_ISLNK(s.st_mode) ? "symlink" : S_ISDIR(s.st_mode) ? "dir" : "file");
}

static void rd(const char *label, const char *path) {
  char buf[64] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) { printf("%s: %s\n", label, errname(errno)); return; }
  read(fd, buf, sizeof buf - 1);
  close(fd);
  printf("%s: read [%s]\n", label, buf);
}

int main(int argc, char **argv) {
  if (argc < 2) { printf("usage: escape OUTSIDE\n"); return 2; }
  const char *outside = argv[1];
  char p[512];

  // ".." and absolute paths.
  rd("open /../secret.txt", "/../secret.txt");
  rd("open /dir/../../secret.txt", "/dir/../../secret.txt");
  rd("open ../secret.txt from cwd /", "../secret.txt");
  rd("open host path of the secret", (snprintf(p, sizeof p, "%s/secret.txt", outside), p));
  st("stat /..", "/..", 0);
  st("stat /dir/..", "/dir/..", 0);
  CHECK("mkdir /../x", mkdir("/../x", 0755));
  CHECK("rmdir /..", rmdir("/.."));
  CHECK("unlink /../secret.txt", unlink("/../secret.txt"));
  CHECK("chdir /dir", chdir("/dir"));
  rd("open ../../secret.txt from cwd /dir", "../../secret.txt");
  rd("open ../inside.txt from cwd /dir", "../inside.txt");
  CHECK("chdir /", chdir("/"));
  __wasi_fd_t nfd;
  CHECKE("raw path_open absolute", __wasi_path_open(3, 0, "/etc/passwd", 0, __WASI_RIGHTS_FD_READ, 0, 0, &nfd));
  CHECKE("raw path_open ..", __wasi_path_open(3, 0, "..", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READ, 0, 0, &nfd));
  int dfd = open("/dir", O_RDONLY | O_DIRECTORY);
  CHECK("openat dir fd ../inside.txt (above the fd)", openat(dfd, "../inside.txt", O_RDONLY));
  close(dfd);

  // Symlinks planted by the host.
  rd("open abs_link", "/abs_link");
  st("stat abs_link", "/abs_link", 0);
  st("lstat abs_link", "/abs_link", AT_SYMLINK_NOFOLLOW);
  char target[512] = {0};
  CHECK("readlink abs_link is the host path", readlink("/abs_link", target, sizeof target - 1) > 0 &&
                                                  strcmp(target, (snprintf(p, sizeof p, "%s/secret.txt", outside), p)) == 0);
  CHECK("opendir abs_dir_link", opendir("/abs_dir_link") ? 0 : -1);
  rd("open abs_dir_link/secret.txt", "/abs_dir_link/secret.txt");
  CHECK("create through abs_dir_link", open("/abs_dir_link/new.txt", O_CREAT | O_WRONLY, 0644));
  CHECK("mkdir through abs_dir_link", mkdir("/abs_dir_link/newdir", 0755));
  CHECK("unlink through abs_dir_link", unlink("/abs_dir_link/secret.txt"));
  CHECK("rmdir through abs_dir_link", rmdir("/abs_dir_link/sub"));
  CHECK("rename out of abs_dir_link", rename("/abs_dir_link/secret.txt", "/stolen.txt"));
  CHECK("rename into abs_dir_link", rename("/inside.txt", "/abs_dir_link/planted.txt"));
  CHECK("symlink inside abs_dir_link", symlink("x", "/abs_dir_link/l"));
  struct timespec ts[2] = {{1, 0}, {1, 0}};
  CHECK("utimensat through abs_link", utimensat(AT_FDCWD, "/abs_link", ts, 0));
  CHECK("utimensat through abs_dir_link", utimensat(AT_FDCWD, "/abs_dir_link/secret.txt", ts, 0));
  CHECK("truncate through abs_link", truncate("/abs_link", 0));
  rd("open rel_link", "/rel_link");
  rd("open dir/up_link", "/dir/up_link");
  rd("open dir/ok_link", "/dir/ok_link");
  rd("open loop_a", "/loop_a");
  CHECK("O_CREAT through abs_link", open("/abs_link", O_CREAT | O_WRONLY, 0644));
  CHECK("O_CREAT|O_EXCL on abs_link", open("/abs_link", O_CREAT | O_EXCL | O_WRONLY, 0644));

  // Symlinks the guest makes.
  CHECK("symlink to an absolute target", symlink("/etc/passwd", "/g_abs"));
  CHECK("symlink climbing out", symlink("../../../../../../../../etc/passwd", "/g_rel"));
  rd("open g_rel", "/g_rel");
  CHECK("symlink to a dir outside", symlink("../..", "/dir/g_up"));
  CHECK("opendir dir/g_up", opendir("/dir/g_up") ? 0 : -1);
  CHECK("create through dir/g_up", open("/dir/g_up/made-by-guest.txt", O_CREAT | O_WRONLY, 0644));
  CHECK("symlink chain out", symlink("dir/g_up", "/g_chain"));
  st("stat g_chain/..", "/g_chain/..", 0);
  CHECK("symlink staying inside", symlink("dir/../inside.txt", "/g_ok"));
  rd("open g_ok", "/g_ok");

  // Hard links out and in.
  CHECK("link inside.txt out", link("/inside.txt", "/../out.txt"));
  CHECK("link the secret in", link("/../secret.txt", "/in.txt"));
  CHECK("link the secret in via abs_dir_link", link("/abs_dir_link/secret.txt", "/in.txt"));
  CHECK("link into abs_dir_link", link("/inside.txt", "/abs_dir_link/hl"));
  CHECK("linkat following abs_link", linkat(AT_FDCWD, "/abs_link", AT_FDCWD, "/hl_follow", AT_SYMLINK_FOLLOW));
  CHECK("linkat following g_rel", linkat(AT_FDCWD, "/g_rel", AT_FDCWD, "/hl_follow", AT_SYMLINK_FOLLOW));
  CHECK("linkat abs_link itself", linkat(AT_FDCWD, "/abs_link", AT_FDCWD, "/hl_nofollow", 0));
  rd("open hl_nofollow", "/hl_nofollow");

  rd("inside.txt still here", "/inside.txt");
  return 0;
}
