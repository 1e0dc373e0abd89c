/* Snippet: fork: the child registers again and keeps working; the parent's connection is intact. */
#include "snippet.h"

SNIPPET_BODY {
  print_fd("parent_before", open(T("PL_T_FILE"), O_RDONLY));
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    print_fd("child", open(T("PL_T_FILE"), O_RDONLY));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  print_fd("parent_after", open(T("PL_T_FILE"), O_RDONLY));
}
