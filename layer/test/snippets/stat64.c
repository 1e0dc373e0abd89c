/* Snippet: stat64 of remote paths (follows links). */
#include "snippet.h"

SNIPPET_BODY {
  struct stat64 st;
  int rc = stat64(T("PL_T_FILE"), &st);
  print_stat("remote", rc, (struct stat *)&st);
  rc = stat64(T("PL_T_LINK"), &st);
  print_stat("link", rc, (struct stat *)&st);
  rc = stat64(T("PL_T_MISSING"), &st);
  print_stat("missing", rc, (struct stat *)&st);
  rc = stat64("/", &st);
  printf("root_is_dir=%d\n", rc == 0 && S_ISDIR(st.st_mode));
}
