/* One hooked call on the local path, N times, for per-call instruction counts (bench/layer-overhead.ts):
 *   prog_localcalls CALL N
 * CALL: open (an /etc file, then close), openat (a /usr file, then close), open_rel (a relative path,
 * then close), stat, lstat, statx, access, readlink, fopen (then fclose), close (of -1), fstat, pread,
 * connect (to a loopback listener, then close and accept), none. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  const char *what = argv[1];
  int n = atoi(argv[2]);
  struct stat st;
  struct statx sx;
  char buf[64];
  int fd = open("/etc/passwd", O_RDONLY);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  if (bind(ls, (void *)&a, sizeof a) || listen(ls, 1024) || getsockname(ls, (void *)&a, &al)) return 1;
  for (int i = 0; i < n; i++) {
    if (!strcmp(what, "open")) close(open("/etc/passwd", O_RDONLY));
    else if (!strcmp(what, "openat")) close(openat(AT_FDCWD, "/usr/bin/env", O_RDONLY | O_CLOEXEC));
    else if (!strcmp(what, "open_rel")) close(open(".", O_RDONLY));
    else if (!strcmp(what, "stat")) stat("/usr/bin", &st);
    else if (!strcmp(what, "lstat")) lstat("/usr/bin/env", &st);
    else if (!strcmp(what, "statx")) statx(AT_FDCWD, "/usr/lib", 0, STATX_BASIC_STATS, &sx);
    else if (!strcmp(what, "access")) access("/proc/self", F_OK);
    else if (!strcmp(what, "readlink")) (void)!readlink("/proc/self/exe", buf, sizeof buf);
    else if (!strcmp(what, "fopen")) fclose(fopen("/etc/passwd", "r"));
    else if (!strcmp(what, "close")) close(-1);
    else if (!strcmp(what, "fstat")) fstat(fd, &st);
    else if (!strcmp(what, "pread")) (void)!pread(fd, buf, sizeof buf, 0);
    else if (!strcmp(what, "connect")) {
      int s = socket(AF_INET, SOCK_STREAM, 0);
      (void)!connect(s, (void *)&a, sizeof a);
      close(s);
      close(accept(ls, NULL, NULL));
    }
  }
  return 0;
}
