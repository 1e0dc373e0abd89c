/* Every libc symbol the layer hooks, in one table. Hooks reach the real function only through
 * pl_real.NAME, which real.c resolves with the allocation-free, lock-free ELF lookup of elfsym.c (never
 * dlsym: see the start-up rule there) and refuses if it resolves to our own wrapper (that would recurse
 * forever). Functions the layer does not hook are called directly. */
#ifndef PODLINK_REAL_H
#define PODLINK_REAL_H

#include "common.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/utsname.h>

/* glibc-internal entry points that current headers no longer declare (old binaries and fortified
 * code still call them). */
int __open_2(const char *, int);
int __open64_2(const char *, int);
int __openat_2(int, const char *, int);
int __openat64_2(int, const char *, int);
int __xstat(int, const char *, struct stat *);
int __xstat64(int, const char *, struct stat64 *);
int __lxstat(int, const char *, struct stat *);
int __lxstat64(int, const char *, struct stat64 *);
int __fxstatat(int, int, const char *, struct stat *, int);
int __fxstatat64(int, int, const char *, struct stat64 *, int);
ssize_t __read_chk(int, void *, size_t, size_t);
ssize_t __pread_chk(int, void *, size_t, off_t, size_t);
ssize_t __pread64_chk(int, void *, size_t, off64_t, size_t);

/* X(required, return type, name, parameter list). required = 0 for symbols a libc may lack (compat-only
 * __xstat family, newer additions); a hook whose real symbol is missing fails with ENOSYS. */
#define PL_REAL_SYMS(X)                                                                            \
  /* files: open family */                                                                         \
  X(1, int, open, (const char *, int, ...))                                                         \
  X(1, int, open64, (const char *, int, ...))                                                       \
  X(1, int, openat, (int, const char *, int, ...))                                                  \
  X(1, int, openat64, (int, const char *, int, ...))                                                \
  X(0, int, __open_2, (const char *, int))                                                          \
  X(0, int, __open64_2, (const char *, int))                                                        \
  X(0, int, __openat_2, (int, const char *, int))                                                   \
  X(0, int, __openat64_2, (int, const char *, int))                                                 \
  X(1, int, creat, (const char *, mode_t))                                                          \
  X(1, int, creat64, (const char *, mode_t))                                                        \
  X(1, FILE *, fopen, (const char *, const char *))                                                 \
  X(1, FILE *, fopen64, (const char *, const char *))                                               \
  X(1, int, fclose, (FILE *))                                                                       \
  /* files: reads of a remote file still arriving (hooks_read.c) */                               \
  X(1, ssize_t, read, (int, void *, size_t))                                                        \
  X(1, ssize_t, __read_chk, (int, void *, size_t, size_t))                                          \
  X(1, ssize_t, readv, (int, const struct iovec *, int))                                            \
  X(1, ssize_t, pread, (int, void *, size_t, off_t))                                                \
  X(1, ssize_t, pread64, (int, void *, size_t, off64_t))                                            \
  X(1, ssize_t, __pread_chk, (int, void *, size_t, off_t, size_t))                                  \
  X(1, ssize_t, __pread64_chk, (int, void *, size_t, off64_t, size_t))                              \
  X(1, ssize_t, preadv, (int, const struct iovec *, int, off_t))                                    \
  X(1, ssize_t, preadv64, (int, const struct iovec *, int, off64_t))                                \
  X(0, ssize_t, preadv2, (int, const struct iovec *, int, off_t, int))                              \
  X(0, ssize_t, preadv64v2, (int, const struct iovec *, int, off64_t, int))                         \
  X(1, void *, mmap, (void *, size_t, int, int, int, off_t))                                        \
  X(1, void *, mmap64, (void *, size_t, int, int, int, off64_t))                                    \
  X(1, off_t, lseek, (int, off_t, int))                                                             \
  X(1, off64_t, lseek64, (int, off64_t, int))                                                       \
  X(1, ssize_t, sendfile, (int, int, off_t *, size_t))                                              \
  X(1, ssize_t, sendfile64, (int, int, off64_t *, size_t))                                          \
  X(0, ssize_t, copy_file_range, (int, off64_t *, int, off64_t *, size_t, unsigned int))            \
  X(1, ssize_t, splice, (int, off64_t *, int, off64_t *, size_t, unsigned int))                     \
  X(1, FILE *, fdopen, (int, const char *))                                                         \
  /* files: stat family (path forms only) */                                                       \
  X(1, int, stat, (const char *, struct stat *))                                                    \
  X(1, int, lstat, (const char *, struct stat *))                                                   \
  X(1, int, stat64, (const char *, struct stat64 *))                                                \
  X(1, int, lstat64, (const char *, struct stat64 *))                                               \
  X(1, int, fstatat, (int, const char *, struct stat *, int))                                       \
  X(1, int, fstatat64, (int, const char *, struct stat64 *, int))                                   \
  X(0, int, __xstat, (int, const char *, struct stat *))                                            \
  X(0, int, __xstat64, (int, const char *, struct stat64 *))                                        \
  X(0, int, __lxstat, (int, const char *, struct stat *))                                           \
  X(0, int, __lxstat64, (int, const char *, struct stat64 *))                                       \
  X(0, int, __fxstatat, (int, int, const char *, struct stat *, int))                               \
  X(0, int, __fxstatat64, (int, int, const char *, struct stat64 *, int))                           \
  X(0, int, statx, (int, const char *, int, unsigned int, struct statx *))                          \
  X(1, int, access, (const char *, int))                                                            \
  X(1, int, faccessat, (int, const char *, int, int))                                               \
  X(1, int, euidaccess, (const char *, int))                                                        \
  X(1, int, eaccess, (const char *, int))                                                           \
  X(1, ssize_t, readlink, (const char *, char *, size_t))                                           \
  X(1, ssize_t, readlinkat, (int, const char *, char *, size_t))                                    \
  /* directories */                                                                                \
  X(1, DIR *, opendir, (const char *))                                                              \
  X(1, DIR *, fdopendir, (int))                                                                     \
  X(1, struct dirent *, readdir, (DIR *))                                                           \
  X(1, struct dirent64 *, readdir64, (DIR *))                                                       \
  X(1, int, readdir_r, (DIR *, struct dirent *, struct dirent **))                                  \
  X(1, int, readdir64_r, (DIR *, struct dirent64 *, struct dirent64 **))                            \
  X(1, int, closedir, (DIR *))                                                                      \
  X(1, int, dirfd, (DIR *))                                                                         \
  X(1, void, rewinddir, (DIR *))                                                                    \
  X(1, long, telldir, (DIR *))                                                                      \
  X(1, void, seekdir, (DIR *, long))                                                                \
  X(1, int, scandir, (const char *, struct dirent ***, int (*)(const struct dirent *),             \
                      int (*)(const struct dirent **, const struct dirent **)))                     \
  X(1, int, scandir64, (const char *, struct dirent64 ***, int (*)(const struct dirent64 *),       \
                        int (*)(const struct dirent64 **, const struct dirent64 **)))               \
  /* descriptors */                                                                                \
  X(1, int, close, (int))                                                                           \
  X(0, int, close_range, (unsigned int, unsigned int, int))                                         \
  X(1, int, dup, (int))                                                                             \
  X(1, int, dup2, (int, int))                                                                       \
  X(1, int, dup3, (int, int, int))                                                                  \
  X(1, int, fcntl, (int, int, ...))                                                                 \
  X(0, int, fcntl64, (int, int, ...))                                                               \
  X(1, long, syscall, (long, ...))                                                                  \
  /* sockets */                                                                                    \
  X(1, int, connect, (int, const struct sockaddr *, socklen_t))                                     \
  X(1, int, bind, (int, const struct sockaddr *, socklen_t))                                        \
  X(1, int, listen, (int, int))                                                                     \
  X(1, int, accept, (int, struct sockaddr *, socklen_t *))                                          \
  X(1, int, accept4, (int, struct sockaddr *, socklen_t *, int))                                    \
  X(1, int, getsockname, (int, struct sockaddr *, socklen_t *))                                     \
  X(1, int, getpeername, (int, struct sockaddr *, socklen_t *))                                     \
  X(1, int, getsockopt, (int, int, int, void *restrict, socklen_t *restrict))                      \
  X(1, int, poll, (struct pollfd *, nfds_t, int))                                                   \
  X(1, int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))            \
  X(1, int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *))                          \
  X(1, int, pselect, (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *)) \
  X(1, int, epoll_wait, (int, struct epoll_event *, int, int))                                      \
  X(1, int, epoll_pwait, (int, struct epoll_event *, int, int, const sigset_t *))                   \
  X(1, ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t))       \
  X(1, ssize_t, sendmsg, (int, const struct msghdr *, int))                                         \
  X(1, ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *))               \
  X(1, ssize_t, recvmsg, (int, struct msghdr *, int))                                               \
  /* dns */                                                                                        \
  X(1, int, getaddrinfo, (const char *, const char *, const struct addrinfo *, struct addrinfo **)) \
  X(1, struct hostent *, gethostbyname, (const char *))                                             \
  X(1, struct hostent *, gethostbyname2, (const char *, int))                                       \
  X(1, int, gethostbyname_r, (const char *, struct hostent *, char *, size_t, struct hostent **,   \
                              int *))                                                               \
  X(1, int, gethostbyname2_r, (const char *, int, struct hostent *, char *, size_t,                \
                               struct hostent **, int *))                                           \
  /* the host's name */                                                                            \
  X(1, int, gethostname, (char *, size_t))                                                          \
  X(1, int, uname, (struct utsname *))                                                              \
  /* exec */                                                                                       \
  X(1, int, execve, (const char *, char *const[], char *const[]))                                   \
  X(1, int, execv, (const char *, char *const[]))                                                   \
  X(1, int, execvp, (const char *, char *const[]))                                                  \
  X(1, int, execvpe, (const char *, char *const[], char *const[]))                                  \
  X(1, int, posix_spawn, (pid_t *, const char *, const posix_spawn_file_actions_t *,                \
                          const posix_spawnattr_t *, char *const[], char *const[]))                 \
  X(1, int, posix_spawnp, (pid_t *, const char *, const posix_spawn_file_actions_t *,               \
                           const posix_spawnattr_t *, char *const[], char *const[]))

/* execl, execlp and execle are hooked too, but they collect their arguments and go through our
 * execve/execvpe logic, so they need no real pointer of their own. */

struct pl_real_table {
#define PL_REAL_FIELD(req, ret, name, args) ret(*name) args;
  PL_REAL_SYMS(PL_REAL_FIELD)
#undef PL_REAL_FIELD
};

extern struct pl_real_table pl_real PL_HIDDEN;

/* pl_real_resolve and pl_real_ensure are declared in common.h (pl_enter needs them). */

#endif
