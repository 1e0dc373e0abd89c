/* Snippet: posix_spawnp with an empty environment. */
#include "snippet.h"

static char *child_argv[] = {"cat", NULL, NULL};
static char *empty_env[] __attribute__((unused)) = {NULL};
static void prep(void) {
  child_argv[1] = (char *)T("PL_T_FILE");
  fflush(stdout);
}

SNIPPET_BODY {
  prep();
  pid_t pid;
  int rc = posix_spawnp(&pid, "cat", NULL, NULL, child_argv, empty_env);
  if (rc) {
    printf("spawn=ERR:%s\n", strerror(rc));
    return;
  }
  int status;
  waitpid(pid, &status, 0);
  printf("\nstatus=%d\n", WEXITSTATUS(status));
}
