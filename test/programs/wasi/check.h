// Shared by the WASI family programs: one printed line per check, with errno by name so that an expected file
// pins exact error values (EBADF, ENOENT, ENOTCAPABLE, ...), not libc's message texts.
#ifndef KAFU_TEST_CHECK_H
#define KAFU_TEST_CHECK_H
#include <errno.h>
#include <stdio.h>
#include <wasi/api.h>

static const char *errname(int e) {
  switch (e) {
    case 0: return "OK";
    case E2BIG: return "E2BIG";
    case EACCES: return "EACCES";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EFAULT: return "EFAULT";
    case EFBIG: return "EFBIG";
    case EILSEQ: return "EILSEQ";
    case EINVAL: return "EINVAL";
    case EIO: return "EIO";
    case EISDIR: return "EISDIR";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOENT: return "ENOENT";
    case ENOSYS: return "ENOSYS";
    case ENOTCAPABLE: return "ENOTCAPABLE";
    case ENOTDIR: return "ENOTDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ENOTSOCK: return "ENOTSOCK";
    case ENOTSUP: return "ENOTSUP";
    case EPERM: return "EPERM";
    case ERANGE: return "ERANGE";
    case ESPIPE: return "ESPIPE";
    case EXDEV: return "EXDEV";
    default: return "E?";
  }
}

// A libc call returning -1 and setting errno on failure: "label: <result>" or "label: -1 ENAME".
#define CHECK(label, expr)                                                        \
  do {                                                                            \
    errno = 0;                                                                    \
    long long r_ = (long long)(expr);                                             \
    if (r_ < 0) printf("%s: %lld %s\n", (label), r_, errname(errno));             \
    else printf("%s: %lld\n", (label), r_);                                       \
  } while (0)

// A call returning an error number directly (raw __wasi_* calls, posix_fadvise, ...): "label: ENAME" or "label: OK".
#define CHECKE(label, expr)                                                       \
  do {                                                                            \
    int e_ = (int)(expr);                                                         \
    printf("%s: %s\n", (label), errname(e_));                                     \
  } while (0)

#endif
