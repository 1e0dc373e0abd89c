/* Snippet: creat64 of a read_write path: written back to the target on close. */
#include "snippet.h"

SNIPPET_BODY {
  int fd = creat64(T("PL_T_WFILE"), 0600);
  print_rc("remote_write", write(fd, "via creat64\n", 12));
  print_rc("close", close(fd));
}
