/* Shared by the test programs: the remote named by an environment variable as "ip:port" (set by the
 * test, from the layer's snippet table). */
#ifndef PODLINK_SUP_TEST_REMOTE_H
#define PODLINK_SUP_TEST_REMOTE_H
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline bool remote_from_env(const char *name, struct sockaddr_in *to) {
  const char *t = getenv(name);
  if (!t) return false;
  char host[64];
  snprintf(host, sizeof host, "%s", t);
  char *colon = strchr(host, ':');
  if (!colon) return false;
  *colon = '\0';
  memset(to, 0, sizeof *to);
  to->sin_family = AF_INET;
  to->sin_port = htons((unsigned short)atoi(colon + 1));
  return inet_pton(AF_INET, host, &to->sin_addr) == 1;
}
#endif
