/* The start of a served program, as the probe (shared/reference/seccomp-notify.md) found it safe:
 *
 *   child:  no_new_privs → seccomp(FILTER, NEW_LISTENER | WAIT_KILLABLE_RECV) → write the listener's
 *           NUMBER to a pipe → wait for "go" → close its copy → execve
 *   parent: read the number → pidfd_open(child) + pidfd_getfd(number) → serve → write "go"
 *
 * Between installing the filter and exec the child makes only calls the filter never notifies (write,
 * read, close, execve), so it cannot block on a listener nobody reads yet. Every way this can fail ends
 * in one line naming the reason and nothing run half-served. */
#include "launch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_kind.h"
#include "sup.h"

/* ADDFD_FLAG_SEND (5.14) is the newest facility the supervisor cannot do without. */
#define NEED_MAJOR 5
#define NEED_MINOR 14

/* What the child tells the parent: the listener's number, or where it failed and with which errno. */
struct report {
  int fd;
  int err;
  int stage; /* 1 no_new_privs, 2 seccomp */
};

static bool kernel_new_enough(char *rel, size_t cap) {
  struct utsname u;
  if (uname(&u) != 0) return true;
  snprintf(rel, cap, "%s", u.release);
  int major = 0, minor = 0;
  sscanf(u.release, "%d.%d", &major, &minor);
  return major > NEED_MAJOR || (major == NEED_MAJOR && minor >= NEED_MINOR);
}

static void what(const char *program, char *out, size_t cap) {
  enum pl_exec_kind k = program ? pl_exec_kind(program) : PL_KIND_UNKNOWN;
  const char *kind = k == PL_KIND_GO       ? "a Go program without cgo"
                     : k == PL_KIND_GO_CGO ? "a Go program"
                     : k == PL_KIND_STATIC ? "a static program"
                                           : "this program";
  snprintf(out, cap, "cannot serve %s (%s, which bypasses the layer)", program ? program : "static or Go programs", kind);
}

static void explain(const char *program, int err, int stage, char *why, size_t cap) {
  char head[600], rel[128] = "?";
  what(program, head, sizeof head);
  bool new_kernel = kernel_new_enough(rel, sizeof rel);
  if (stage == 2 && err == EBUSY) {
    snprintf(why, cap,
             "%s: another seccomp supervisor already watches this process tree (EBUSY) — a sandbox, a container "
             "runtime's notifier, or podlink's own supervisor — and Linux allows only one",
             head);
  } else if (stage == 2 && (err == EINVAL || err == ENOSYS)) {
    snprintf(why, cap,
             "%s: the kernel refused a seccomp user-notification filter (%s): the supervisor needs Linux %d.%d or "
             "newer with seccomp (this is %s)",
             head, strerror(err), NEED_MAJOR, NEED_MINOR, rel);
  } else if (stage == 3 && err == ENOSYS) {
    snprintf(why, cap, "%s: this kernel has no pidfd_getfd (Linux %d.%d or newer is needed; this is %s)", head,
             NEED_MAJOR, NEED_MINOR, rel);
  } else if (!new_kernel) {
    snprintf(why, cap, "%s: Linux %d.%d or newer is needed for the supervisor (this is %s)", head, NEED_MAJOR,
             NEED_MINOR, rel);
  } else {
    static const char *const stages[] = {"start", "set no_new_privs", "install the seccomp filter", "take the listener"};
    snprintf(why, cap, "%s: could not %s (%s)", head, stages[stage >= 0 && stage <= 3 ? stage : 0], strerror(err));
  }
}

/* The child's environment: ours without the layer in LD_PRELOAD (a dynamic descendant must not be
 * served twice: the filter reaches it anyway). */
static char **child_env(void) {
  extern char **environ;
  size_t n = 0;
  while (environ[n]) n++;
  char **env = calloc(n + 1, sizeof *env);
  if (!env) return environ;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0) {
      env[k++] = environ[i];
      continue;
    }
    char *kept = malloc(strlen(environ[i]) + 1);
    if (!kept) continue;
    strcpy(kept, "LD_PRELOAD=");
    char *copy = strdup(environ[i] + 11), *save = NULL;
    for (char *e = copy ? strtok_r(copy, ": ", &save) : NULL; e; e = strtok_r(NULL, ": ", &save)) {
      const char *base = strrchr(e, '/');
      if (strcmp(base ? base + 1 : e, "libpodlink.so") == 0) continue;
      if (kept[11]) strcat(kept, ":");
      strcat(kept, e);
    }
    free(copy);
    if (kept[11]) env[k++] = kept;
  }
  env[k] = NULL;
  return env;
}

static void child(pid_t parent, int report_fd, int go_fd, const char *program, char **argv, char **env,
                  const sigset_t *mask) {
  if (!argv) program = NULL; /* a probe: exit instead of exec'ing */
  struct report r = {.fd = -1};
  /* If the supervisor dies, so does the program: it must never run on unserved. (Descendants it
   * started meanwhile see every notified call fail with ENOSYS: loud, never a local bypass.) */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127); /* it died before that took effect */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    r.err = errno, r.stage = 1;
  } else {
    const struct sock_fprog *f = sup_filter();
    unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    r.fd = f ? (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, f) : -1;
    if (r.fd < 0 && errno == EINVAL) /* before 5.19: signals may restart a waiting call, still correct */
      r.fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, f);
    if (r.fd < 0) r.err = f ? errno : E2BIG, r.stage = 2;
  }
  (void)!write(report_fd, &r, sizeof r);
  if (r.fd < 0) _exit(127);
  char go;
  if (read(go_fd, &go, 1) != 1) _exit(127); /* the supervisor is gone: never run unserved */
  close(r.fd);
  if (!program) _exit(0);
  sigprocmask(SIG_SETMASK, mask, NULL);
  execve(program, argv, env);
  int err = errno;
  sup_line("cannot run %s: %s", program, strerror(err));
  _exit(err == ENOENT ? 127 : 126);
}

int sup_launch(const char *program, char **argv, const sigset_t *child_mask, struct sup_launch *l) {
  memset(l, 0, sizeof *l);
  l->listener = l->go = -1;
  char rel[128];
  if (!kernel_new_enough(rel, sizeof rel)) {
    explain(program, ENOSYS, 0, l->why, sizeof l->why);
    return ENOSYS;
  }
  char **env = argv ? child_env() : NULL;
  (void)sup_filter(); /* built here: the child only copies it */
  int up[2], down[2];
  if (pipe2(up, O_CLOEXEC) != 0 || pipe2(down, O_CLOEXEC) != 0) {
    explain(program, errno, 0, l->why, sizeof l->why);
    return errno;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    explain(program, errno, 0, l->why, sizeof l->why);
    return errno;
  }
  if (pid == 0) {
    close(up[0]);
    close(down[1]);
    child(parent, up[1], down[0], program, argv, env, child_mask);
  }
  close(up[1]);
  close(down[0]);
  struct report r = {.fd = -1, .err = EPIPE};
  ssize_t got = read(up[0], &r, sizeof r);
  close(up[0]);
  int err = 0, stage = 0;
  if (got != (ssize_t)sizeof r || r.fd < 0) {
    err = got == (ssize_t)sizeof r ? r.err : EPIPE;
    stage = got == (ssize_t)sizeof r ? r.stage : 0;
  } else {
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    l->listener = pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, pidfd, r.fd, 0) : -1;
    if (l->listener < 0) err = errno, stage = 3;
    if (pidfd >= 0) close(pidfd);
  }
  if (err) {
    close(down[1]); /* the child reads EOF and exits without exec'ing */
    waitpid(pid, NULL, 0);
    explain(program, err, stage, l->why, sizeof l->why);
    return err;
  }
  /* 6.6+: wake the program on the CPU that answered (about 18 → 7 µs a call). */
  uint64_t sync_wake = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
  (void)ioctl(l->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, sync_wake);
  l->pid = pid;
  l->go = down[1];
  return 0;
}

void sup_launch_go(struct sup_launch *l) {
  (void)!write(l->go, "g", 1);
  close(l->go);
  l->go = -1;
}

bool sup_launch_probe(const char *program, char *why, size_t cap) {
  struct sup_launch l;
  sigset_t none;
  sigemptyset(&none);
  if (sup_launch(program, NULL, &none, &l) != 0) {
    snprintf(why, cap, "%s", l.why);
    return false;
  }
  sup_launch_go(&l);
  close(l.listener);
  waitpid(l.pid, NULL, 0);
  return true;
}
