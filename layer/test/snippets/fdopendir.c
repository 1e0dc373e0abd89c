/* Snippet: fdopendir of a remote directory opened with open() (Java's Files.list does exactly this). */
#include "snippet.h"

static void list(const char *tag, int flags) {
  int fd = open(T("PL_T_DIR"), flags);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    printf("%s=ERR:%s\n", tag, strerror(errno));
    return;
  }
  char out[1024] = "";
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      strcat(out, e->d_name);
      strcat(out, ",");
    }
  printf("%s=%s\n", tag, out);
  printf("%s_dirfd_is_fd=%d\n", tag, dirfd(d) == fd);
  printf("%s_closedir=%d\n", tag, closedir(d));
  printf("%s_fd_closed=%d\n", tag, fcntl(fd, F_GETFD) == -1 && errno == EBADF);
}

SNIPPET_BODY {
  list("rdonly", O_RDONLY);
  list("directory", O_RDONLY | O_DIRECTORY);
  int fd = open(T("PL_T_FILE"), O_RDONLY | O_DIRECTORY);
  printf("file_as_dir=%s\n", fd < 0 ? strerror(errno) : "opened");
  DIR *d = fdopendir(open("/proc", O_RDONLY | O_DIRECTORY));
  printf("local=%d\n", d && readdir(d) != NULL);
  if (d) closedir(d);
}
