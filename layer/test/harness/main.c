/* Harness 1: the snippet runs from main(), after every constructor. */
#include "snippet.h"

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* lines survive a kill by the test's timeout */
  SNIPPET_FN();
  fflush(stdout);
  return 0;
}
