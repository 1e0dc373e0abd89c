/* Test helper: a kernel without seccomp user notification, as far as the command can tell. A filter
 * makes seccomp(2) fail with EINVAL (what Linux before 5.0 answers for SECCOMP_FILTER_FLAG_NEW_LISTENER)
 * for the command and everything it starts; podlink must refuse a static or Go program in one line.
 *   noseccomp CMD [ARGS…] */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return perror("no_new_privs"), 1;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return perror("seccomp"), 1;
  execvp(argv[1], argv + 1);
  perror("exec");
  return 127;
}
