/* Snippet: close: the app cannot close the layer's connection; the last close of a remote write writes it back. */
#include "snippet.h"

SNIPPET_BODY {
  print_fd("before", open(T("PL_T_FILE"), O_RDONLY)); /* opens the layer's connection */
  int closed = 0;
  for (int fd = 3; fd < 65536; fd++)
    if (close(fd) == 0) closed++;
  print_fd("after_closing_everything", open(T("PL_T_FILE"), O_RDONLY));
  int w = open(T("PL_T_WFILE"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  print_rc("write", write(w, "via close\n", 10));
  print_rc("close_writeback", close(w));
}
