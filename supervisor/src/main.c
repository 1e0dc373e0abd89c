/* podlink-supervisor: serves a program the layer cannot (static, or Go) through seccomp user
 * notifications (README.md in this directory).
 *
 *   podlink-supervisor run PROGRAM -- ARGV0 ARGS…   start PROGRAM under the filter and serve it
 *   podlink-supervisor check PROGRAM               one JSON line: its kind, and whether the supervisor
 *                                                 can run here (the CLI asks before it chooses a path)
 *
 * This process stays the parent: it forks the program, which installs the filter and sends us the
 * listener's number through a pipe; we take the listener with pidfd_getfd (SCM_RIGHTS would deadlock:
 * the child's sendmsg is already filtered), tell it to go on, and it execs. Being an ancestor of every
 * process we serve is what lets us read them under Yama's ptrace_scope 1, and PR_SET_CHILD_SUBREAPER
 * keeps orphaned descendants ours. We exit as the program does (its status, or its signal) and forward
 * the signals a parent sends us. */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "config.h"
#include "exec_kind.h"
#include "launch.h"
#include "sup.h"

int sup_listener = -1;
pid_t sup_child;
const char *sup_program = "?";

void sup_line(const char *fmt, ...) {
  char buf[2048] = "podlink: ";
  va_list ap;
  va_start(ap, fmt);
  size_t n = strlen(buf);
  vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
  va_end(ap);
  n = strlen(buf);
  buf[n++] = '\n';
  (void)!write(2, buf, n);
}

static void *serve_thread(void *arg) {
  (void)arg;
  sup_serve();
  return NULL;
}

/* Signals a parent may send us on the program's behalf. Terminal-generated ones (si_code > 0, e.g.
 * Ctrl-C) reached the program's process group already: forwarding them would deliver them twice. */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGCONT};

static int wait_program(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&set, forwarded[i]);
  for (;;) {
    int status;
    pid_t p;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0) { /* orphans reparented to us are reaped too */
      if (p != sup_child) continue;
      sup_dirs_cleanup();
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      int sig = WTERMSIG(status);
      struct rlimit none = {0, 0};
      setrlimit(RLIMIT_CORE, &none);
      signal(sig, SIG_DFL);
      sigset_t one;
      sigemptyset(&one);
      sigaddset(&one, sig);
      sigprocmask(SIG_UNBLOCK, &one, NULL);
      raise(sig); /* the parent sees the program's death by that signal */
      return 128 + sig;
    }
    siginfo_t si;
    int s = sigwaitinfo(&set, &si);
    if (s > 0 && s != SIGCHLD && si.si_code <= 0) kill(sup_child, s);
  }
}

static int run(const char *program, char **argv) {
  sup_program = program;
  if (!pl_config_load()) { /* no session: nothing to serve */
    execv(program, argv);
    sup_line("cannot run %s: %s", program, strerror(errno));
    return 127;
  }
  sigset_t set, old;
  sigfillset(&set);
  sigdelset(&set, SIGSEGV);
  sigdelset(&set, SIGBUS);
  sigdelset(&set, SIGFPE);
  sigdelset(&set, SIGILL);
  sigprocmask(SIG_BLOCK, &set, &old);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct sup_launch l;
  int err = sup_launch(program, argv, &old, &l);
  if (err) {
    sup_line("%s", l.why);
    return 125;
  }
  sup_listener = l.listener;
  sup_child = l.pid;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max; /* relays and memfds are ours, not the program's */
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  pthread_t t;
  if (pthread_create(&t, NULL, serve_thread, NULL) != 0) {
    sup_line("cannot serve %s: no thread for the supervisor (%s)", program, strerror(errno));
    kill(sup_child, SIGKILL);
  }
  sup_launch_go(&l); /* the program execs now */
  return wait_program();
}

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\');
    if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
    else putchar(*s);
  }
  putchar('"');
}

static int check(const char *program) {
  enum pl_exec_kind k = pl_exec_kind(program);
  printf("{\"kind\":\"%s\",\"supervisor\":%s", pl_exec_kind_name(k), pl_exec_kind_needs_supervisor(k) ? "true" : "false");
  if (pl_exec_kind_needs_supervisor(k)) {
    char why[1024];
    bool ok = sup_launch_probe(program, why, sizeof why);
    printf(",\"available\":%s", ok ? "true" : "false");
    if (!ok) {
      printf(",\"reason\":");
      json_str(why);
    }
  }
  printf("}\n");
  return 0;
}

int main(int argc, char **argv) {
  sup_glue_init();
  if (argc >= 3 && strcmp(argv[1], "check") == 0) return check(argv[2]);
  if (argc >= 5 && strcmp(argv[1], "run") == 0 && strcmp(argv[3], "--") == 0) return run(argv[2], argv + 4);
  fprintf(stderr, "usage: podlink-supervisor run PROGRAM -- ARGV0 [ARGS…]\n       podlink-supervisor check PROGRAM\n");
  return 2;
}
