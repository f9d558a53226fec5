// fd_readdir: raw calls with cookies and buffers too small for one entry, d_type of each kind, the end of the
// listing, and wasi-libc's readdir/telldir/seekdir/rewinddir on top. Under forced migration a listing is continued
// on another node after every call: cookies must mean the same entries there.
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

#define N 40

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// List fd with raw fd_readdir and a buffer of `cap` bytes; returns the names (in listing order) and checks cookies.
static int list_raw(int fd, size_t cap, char **names, int max, unsigned char *types) {
  unsigned char buf[512];
  __wasi_dircookie_t cookie = 0;
  int n = 0, bad_cookie = 0;
  for (;;) {
    __wasi_size_t used = 0;
    __wasi_errno_t e = __wasi_fd_readdir(fd, buf, cap, cookie, &used);
    if (e != 0) { printf("fd_readdir failed: %s\n", errname(e)); return -1; }
    size_t off = 0;
    int progressed = 0;
    while (off + sizeof(__wasi_dirent_t) <= used) {
      __wasi_dirent_t d;
      memcpy(&d, buf + off, sizeof d);
      if (off + sizeof d + d.d_namlen > used) break; // name cut off: ask again from this entry's cookie
      if (n < max) {
        names[n] = strndup((const char *)buf + off + sizeof d, d.d_namlen);
        types[n] = d.d_type;
      }
      n++;
      if (d.d_next != (__wasi_dircookie_t)n) bad_cookie++;
      cookie = d.d_next;
      off += sizeof d + d.d_namlen;
      progressed = 1;
    }
    if (used < cap && off == used) break; // end of directory
    if (!progressed) { printf("buffer %zu too small for the next entry: used %u\n", cap, (unsigned)used); break; }
  }
  if (bad_cookie) printf("cookies not 1, 2, 3, ...: %d\n", bad_cookie);
  return n;
}

int main(void) {
  CHECK("mkdir /d", mkdir("/d", 0755));
  for (int i = 0; i < N; i++) {
    char p[64];
    snprintf(p, sizeof p, "/d/file_%02d_with_a_longer_name", i);
    close(open(p, O_CREAT | O_WRONLY, 0644));
  }
  CHECK("mkdir /d/zsub", mkdir("/d/zsub", 0755));
  CHECK("symlink /d/alink", symlink("file_00_with_a_longer_name", "/d/alink"));

  int fd = open("/d", O_RDONLY | O_DIRECTORY);
  char *names[64];
  unsigned char types[64];
  size_t caps[] = {512, 100, 60, 40};
  for (int c = 0; c < 4; c++) {
    int n = list_raw(fd, caps[c], names, 64, types);
    int dots = 0, files = 0, dirs = 0, links = 0;
    for (int i = 0; i < n && i < 64; i++) {
      if (!strcmp(names[i], ".") || !strcmp(names[i], "..")) { dots++; if (types[i] != __WASI_FILETYPE_DIRECTORY) printf("dot type %d\n", types[i]); continue; }
      if (types[i] == __WASI_FILETYPE_REGULAR_FILE) files++;
      else if (types[i] == __WASI_FILETYPE_DIRECTORY) dirs++;
      else if (types[i] == __WASI_FILETYPE_SYMBOLIC_LINK) links++;
    }
    int dup = 0;
    qsort(names, n, sizeof names[0], by_name);
    for (int i = 1; i < n; i++) dup += strcmp(names[i - 1], names[i]) == 0;
    printf("buffer %zu: %d entries (%d dots, %d files, %d dirs, %d symlinks), %d duplicates, first %s last %s\n",
           caps[c], n, dots, files, dirs, links, dup, names[0], names[n - 1]);
    for (int i = 0; i < n; i++) free(names[i]);
  }

  // A buffer smaller than one dirent header: the call fills it and reports it full.
  unsigned char small[10];
  __wasi_size_t used = 0;
  CHECKE("fd_readdir 10-byte buffer", __wasi_fd_readdir(fd, small, sizeof small, 0, &used));
  printf("used %u\n", (unsigned)used);
  CHECKE("fd_readdir cookie past end", __wasi_fd_readdir(fd, small, sizeof small, 1000, &used));
  printf("used %u\n", (unsigned)used);
  CHECKE("fd_readdir bad fd", __wasi_fd_readdir(99, small, sizeof small, 0, &used));
  close(fd);

  // wasi-libc's DIR on top: telldir/seekdir return to the same entry, rewinddir starts over.
  DIR *d = opendir("/d");
  struct dirent *e;
  for (int i = 0; i < 10; i++) e = readdir(d);
  long mark = telldir(d);
  char after[5][64];
  for (int i = 0; i < 5; i++) { e = readdir(d); snprintf(after[i], sizeof after[i], "%s", e ? e->d_name : "(end)"); }
  seekdir(d, mark);
  int same = 1;
  for (int i = 0; i < 5; i++) { e = readdir(d); same &= e && strcmp(e->d_name, after[i]) == 0; }
  printf("seekdir back gives the same 5 entries: %s\n", same ? "yes" : "no");
  int rest = 0;
  while ((e = readdir(d)) != NULL) rest++;
  printf("rest after 15: %d\n", rest);
  printf("readdir at end again: %s\n", readdir(d) ? "entry?!" : "NULL");
  rewinddir(d);
  int total = 0;
  while ((e = readdir(d)) != NULL) total++;
  printf("after rewinddir: %d entries\n", total);
  closedir(d);

  // scandir sorts; an empty directory holds only . and ..
  struct dirent **list;
  CHECK("mkdir /empty", mkdir("/empty", 0755));
  int n = scandir("/empty", &list, NULL, alphasort);
  printf("scandir /empty: %d", n);
  for (int i = 0; i < n; i++) { printf(" %s", list[i]->d_name); free(list[i]); }
  printf("\n");
  free(list);
  CHECK("opendir a file", opendir("/d/alink") ? 0 : -1);
  CHECK("opendir missing", opendir("/missing") ? 0 : -1);
  return 0;
}
