/* Harness 1: the snippet runs from main(), after every constructor. */
#include "snippet.h"

int main(void) {
  SNIPPET_FN();
  fflush(stdout);
  return 0;
}
