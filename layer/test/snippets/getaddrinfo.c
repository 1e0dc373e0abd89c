/* Snippet: getaddrinfo resolves in the target; glibc builds the list (service, socktype, V4MAPPED); localhost stays local. */
#include "snippet.h"

SNIPPET_BODY {
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_CANONNAME}, *res = NULL;
  int rc = getaddrinfo(T("PL_T_HOST"), "http", &hints, &res);
  if (rc) printf("remote=ERR:%s\n", gai_strerror(rc));
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    print_sockaddr("addr", a->ai_addr);
    if (a->ai_canonname) printf("canon=%s\n", a->ai_canonname);
  }
  int n = 0;
  for (struct addrinfo *a = res; a; a = a->ai_next) n++;
  printf("count=%d\n", n);
  if (res) freeaddrinfo(res);
  struct addrinfo h6 = {.ai_family = AF_INET6, .ai_flags = AI_V4MAPPED, .ai_socktype = SOCK_DGRAM};
  rc = getaddrinfo(T("PL_T_HOST"), "53", &h6, &res);
  if (!rc) {
    print_sockaddr("mapped", res->ai_addr);
    freeaddrinfo(res);
  }
  rc = getaddrinfo("no-such-name.invalid", NULL, NULL, &res);
  printf("missing=%s\n", rc == EAI_NONAME ? "EAI_NONAME" : gai_strerror(rc));
  rc = getaddrinfo("localhost", "80", &hints, &res);
  printf("localhost=%s\n", rc ? gai_strerror(rc) : "local");
  if (!rc) freeaddrinfo(res);
}
