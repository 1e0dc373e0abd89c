/* A purely local workload for counting syscalls with and without the layer: every call here takes the
 * layer's local path (builtin-local paths, untracked descriptors), which must add no syscall. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  char buf[256];
  for (int i = 0; i < n; i++) {
    int fd = open("/etc/passwd", O_RDONLY);
    struct stat st;
    fstat(fd, &st);
    (void)!read(fd, buf, sizeof buf);
    close(fd);
    stat("/usr/bin", &st);
    access("/proc/self", F_OK);
    struct statx sx;
    syscall(SYS_statx, AT_FDCWD, "/usr/lib", 0, STATX_BASIC_STATS, &sx);
    syscall(SYS_close, -1);
    DIR *d = opendir("/proc/self");
    while (readdir(d)) {
    }
    closedir(d);
    FILE *f = fopen("/etc/passwd", "r");
    fclose(f);
  }
  puts("done");
  return 0;
}
