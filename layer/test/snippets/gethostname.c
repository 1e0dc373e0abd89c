/* Snippet: gethostname gives the target's name (PODLINK_HOSTNAME); a buffer too small for it gets as
 * much as fits and ENAMETOOLONG, as glibc's does. */
#include "snippet.h"

SNIPPET_BODY {
  char name[256];
  printf("name=%s\n", gethostname(name, sizeof name) == 0 ? name : strerror(errno));
  char small[4] = "";
  int rc = gethostname(small, sizeof small);
  printf("small=%s %.4s\n", rc == 0 ? "0" : strerror(errno), small);
}
