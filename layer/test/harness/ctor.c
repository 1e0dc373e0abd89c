/* Harness 2: the snippet runs from this library's constructor (STYLE.md 13). As a dependency of the
 * executable it would be initialised before a preloaded library; the layer is linked -z initfirst, so its
 * set-up has still ended by now and the calls are hooked (layer/README.md, "Start-up that cannot
 * deadlock"). */
#include "snippet.h"

__attribute__((constructor)) static void run_snippet(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("harness=ctor\n");
  SNIPPET_FN();
  fflush(stdout);
}
