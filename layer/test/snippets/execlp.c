/* Snippet: execlp after clearenv(). */
#include "snippet.h"

static char *child_argv[] = {"cat", NULL, NULL};
static char *empty_env[] __attribute__((unused)) = {NULL};
static void prep(void) {
  child_argv[1] = (char *)T("PL_T_FILE");
  fflush(stdout);
}

SNIPPET_BODY {
  prep();
  clearenv();
  execlp("cat", "cat", child_argv[1], (char *)NULL);
  printf("execlp=ERR:%s\n", strerror(errno));
}
