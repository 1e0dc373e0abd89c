/* Snippet: creat: a local path is created locally. */
#include "snippet.h"

SNIPPET_BODY {
  int fd = creat(T("PL_T_LOCAL_OUT"), 0644);
  print_rc("local_write", write(fd, "created\n", 8));
  close(fd);
  print_fd("local_back", open(T("PL_T_LOCAL_OUT"), O_RDONLY));
}
