/* Snippet: execve with an empty environment: the child is still hooked and reads the remote file. */
#include "snippet.h"

static char *child_argv[] = {"cat", NULL, NULL};
static char *empty_env[] __attribute__((unused)) = {NULL};
static void prep(void) {
  child_argv[1] = (char *)T("PL_T_FILE");
  fflush(stdout);
}

SNIPPET_BODY {
  prep();
  execve("/bin/cat", child_argv, empty_env);
  printf("execve=ERR:%s\n", strerror(errno));
}
