/* Snippet: fstatat: path forms remote, AT_EMPTY_PATH is an fstat of the memfd. */
#include "snippet.h"

SNIPPET_BODY {
  struct stat st;
  print_stat("remote", fstatat(AT_FDCWD, T("PL_T_FILE"), &st, 0), (struct stat *)&st);
  print_stat("nofollow", fstatat(AT_FDCWD, T("PL_T_LINK"), &st, AT_SYMLINK_NOFOLLOW), (struct stat *)&st);
  int fd = open(T("PL_T_FILE"), O_RDONLY);
  print_stat("empty_path", fstatat(fd, "", &st, AT_EMPTY_PATH), (struct stat *)&st);
  close(fd);
}
