/* The target's memory and descriptors. Memory is read and written with process_vm_readv/writev on the
 * notifying thread's id (the kernel finds that thread's address space); descriptors are fetched with
 * pidfd_getfd. Both need ptrace access to the target, which we have as its ancestor, as long as it is
 * dumpable (or we are root). Callers check sup_valid() after reading, before acting on what they read. */
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "sup.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

int sup_read(pid_t tid, uint64_t addr, void *buf, size_t n) {
  struct iovec local = {buf, n}, remote = {(void *)(uintptr_t)addr, n};
  ssize_t got = process_vm_readv(tid, &local, 1, &remote, 1, 0);
  if (got == (ssize_t)n) return 0;
  if (got < 0 && errno == EPERM) return EPERM;
  if (got < 0 && errno == ESRCH) return ESRCH;
  return EFAULT;
}

int sup_write(pid_t tid, uint64_t addr, const void *buf, size_t n) {
  if (n == 0) return 0;
  struct iovec local = {(void *)buf, n}, remote = {(void *)(uintptr_t)addr, n};
  ssize_t put = process_vm_writev(tid, &local, 1, &remote, 1, 0);
  if (put == (ssize_t)n) return 0;
  if (put < 0 && (errno == EPERM || errno == ESRCH)) return errno;
  return EFAULT;
}

/* A string that may end anywhere: read page by page (a read across an unmapped page fails whole). */
int sup_read_path(pid_t tid, uint64_t addr, char *buf, size_t cap) {
  if (addr == 0) return EFAULT;
  size_t have = 0;
  while (have < cap) {
    size_t to_page = 4096 - ((addr + have) & 4095);
    size_t n = to_page < cap - have ? to_page : cap - have;
    int r = sup_read(tid, addr + have, buf + have, n);
    if (r) return r;
    char *nul = memchr(buf + have, '\0', n);
    if (nul) return 0;
    have += n;
  }
  return ENAMETOOLONG;
}

pid_t sup_tgid(pid_t tid) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/status", tid);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char *t = strstr(buf, "\nTgid:");
  return t ? atoi(t + 6) : -1;
}

int sup_getfd(pid_t tid, int fd) {
  /* A thread's own pidfd (6.9); before that, its thread group leader's (the descriptor table is shared). */
  int pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
  if (pidfd < 0 && errno == EINVAL) {
    int tgid = sup_tgid(tid);
    pidfd = tgid > 0 ? (int)syscall(SYS_pidfd_open, tgid, 0) : -1;
  }
  if (pidfd < 0) return -errno;
  int ours = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
  int err = errno;
  close(pidfd);
  if (ours < 0 && err == EPERM) sup_cannot_read(tid);
  return ours >= 0 ? ours : -err;
}

ssize_t sup_fd_path(pid_t tid, int fd, char *buf, size_t cap) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/fd/%d", tid, fd);
  ssize_t n = readlink(p, buf, cap - 1);
  if (n < 0) return -1;
  buf[n] = '\0';
  return n;
}

unsigned long sup_socket_ino(pid_t tid, int fd) {
  char link[64];
  if (fd < 0 || sup_fd_path(tid, fd, link, sizeof link) < 0) return 0;
  if (strncmp(link, "socket:[", 8) != 0) return 0;
  return strtoul(link + 8, NULL, 10);
}

int sup_find_socket(pid_t tgid, unsigned long ino) {
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%d/fd", tgid);
  DIR *d = opendir(dir);
  int found = -1;
  for (struct dirent *e; d && found < 0 && (e = readdir(d));) {
    int n = atoi(e->d_name);
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && sup_socket_ino(tgid, n) == ino) found = n;
  }
  if (d) closedir(d);
  return found;
}

size_t sup_exe_prefix(pid_t tid, char *buf, size_t cap) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/exe", tid);
  ssize_t n = readlink(p, buf, cap - 1);
  if (n <= 0) return 0;
  buf[n] = '\0';
  /* as the layer's config.c: the parent of the directory holding the executable, never "/" */
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(buf, '/');
    if (!slash) return 0;
    *slash = '\0';
  }
  size_t len = strlen(buf);
  return len > 1 ? len : 0;
}

/* Processes already told about (a small ring: a non-dumpable process is rare, and saying it twice is
 * better than never). */
static pid_t told[64];
static unsigned n_told;
static pthread_mutex_t told_mu = PTHREAD_MUTEX_INITIALIZER;

void sup_cannot_read(pid_t tid) {
  int tgid = sup_tgid(tid);
  if (tgid <= 0) return; /* gone */
  pthread_mutex_lock(&told_mu);
  bool seen = false;
  for (unsigned i = 0; i < n_told && i < 64; i++) seen |= told[i] == tgid;
  if (!seen) told[n_told++ % 64] = tgid;
  pthread_mutex_unlock(&told_mu);
  if (seen) return;
  /* Its executable's link is closed to us now; its name (comm) is not. */
  char name[64] = "", p[64];
  snprintf(p, sizeof p, "/proc/%d/comm", tgid);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, name, sizeof name - 1) : -1;
  if (fd >= 0) close(fd);
  name[n > 0 ? n : 0] = '\0';
  name[strcspn(name, "\n")] = '\0';
  const char *exe = tgid == sup_child ? sup_program : name[0] ? name : "a served program";
  sup_line("cannot serve %s (pid %d) any more: it made itself non-dumpable (prctl PR_SET_DUMPABLE 0, or an "
           "unreadable executable), so podlink cannot read its system calls; its file, DNS and network calls now "
           "fail with EPERM instead of running on this machine",
           exe, tgid);
}
