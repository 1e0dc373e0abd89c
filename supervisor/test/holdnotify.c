/* Test helper: another seccomp notify supervisor above the command (a sandbox, a container runtime's
 * notifier). Installs a filter with a listener — notifying only acct(2), which nothing here calls —
 * keeps the listener open in a child of its own, and execs the command. A podlink supervisor started
 * below it must fail with EBUSY and say so.
 *   holdnotify CMD [ARGS…] */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_acct, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return perror("no_new_privs"), 1;
  int listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (listener < 0) return perror("seccomp"), 1;
  pid_t holder = fork();
  if (holder == 0) { /* keeps the listener alive until the command's process is gone */
    pid_t parent = getppid();
    while (kill(parent, 0) == 0) sleep(1);
    _exit(0);
  }
  close(listener);
  execvp(argv[1], argv + 1);
  perror("exec");
  return 127;
}
