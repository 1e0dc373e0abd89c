/* Snippet: fstatat64: path forms remote, AT_EMPTY_PATH is an fstat of the memfd. */
#include "snippet.h"

SNIPPET_BODY {
  struct stat64 st;
  print_stat("remote", fstatat64(AT_FDCWD, T("PL_T_FILE"), &st, 0), (struct stat *)&st);
  print_stat("nofollow", fstatat64(AT_FDCWD, T("PL_T_LINK"), &st, AT_SYMLINK_NOFOLLOW), (struct stat *)&st);
  int fd = open(T("PL_T_FILE"), O_RDONLY);
  print_stat("empty_path", fstatat64(fd, "", &st, AT_EMPTY_PATH), (struct stat *)&st);
  close(fd);
}
