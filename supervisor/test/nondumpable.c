/* Test program (built static, so the supervisor serves it): makes itself non-dumpable, then opens a
 * file. An unprivileged supervisor can no longer read its system calls: podlink must say so in one
 * line and the open must fail (EPERM), never silently run on this machine.
 *   nondumpable PATH */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int before = open(argv[1], O_RDONLY);
  printf("before=%s\n", before >= 0 ? "ok" : strerror(errno));
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return perror("prctl"), 1;
  int after = open(argv[1], O_RDONLY);
  printf("after=%s\n", after >= 0 ? "ok" : strerror(errno));
  return 0;
}
