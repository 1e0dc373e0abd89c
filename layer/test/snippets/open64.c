/* Snippet: open64: a remote file reads as the target has it; a missing one fails; a write stays local. */
#include "snippet.h"

SNIPPET_BODY {
  print_fd("remote", open64(T("PL_T_FILE"), O_RDONLY | O_CLOEXEC));
  print_fd("missing", open64(T("PL_T_MISSING"), O_RDONLY));
  int fd = open64(T("PL_T_LOCAL_OUT"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  print_rc("local_write", write(fd, "local\n", 6));
  close(fd);
  print_fd("local_back", open64(T("PL_T_LOCAL_OUT"), O_RDONLY));
}
