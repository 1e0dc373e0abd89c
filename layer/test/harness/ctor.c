/* Harness 2: the snippet runs from this library's constructor. As a dependency of the executable it is
 * initialised before the preloaded layer's own constructor, so the layer must start itself on first
 * use (STYLE.md 13). */
#include "snippet.h"

__attribute__((constructor)) static void run_snippet(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("harness=ctor\n");
  SNIPPET_FN();
  fflush(stdout);
}
