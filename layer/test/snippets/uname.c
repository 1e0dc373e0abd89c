/* Snippet: uname's nodename is the target's name (PODLINK_HOSTNAME); the rest is this machine's. */
#include <sys/utsname.h>

#include "snippet.h"

SNIPPET_BODY {
  struct utsname u;
  print_rc("uname", uname(&u));
  printf("nodename=%s\n", u.nodename);
  printf("sysname=%s\n", u.sysname);
}
