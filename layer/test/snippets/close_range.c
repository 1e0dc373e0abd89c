/* Snippet: close_range spares the layer's connection. */
#include "snippet.h"

SNIPPET_BODY {
  print_fd("before", open(T("PL_T_FILE"), O_RDONLY));
  print_rc("close_range", close_range(3, ~0U, 0));
  print_fd("after", open(T("PL_T_FILE"), O_RDONLY));
}
