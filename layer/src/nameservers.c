/* The target's nameservers, for resolvers that read resolv.conf themselves (c-ares in node and gRPC,
 * Ruby's Resolv, dig). They read the target's /etc/resolv.conf (the layer serves it remotely) and send
 * their queries to the nameserver it names; when that is a loopback address (a node-local cache, the
 * container runtime's 127.0.0.11, systemd's 127.0.0.53), the query must still go to the target's
 * network, not to the laptop's loopback. So port 53 of a loopback address that the target's
 * resolv.conf names counts as remote, whatever feature.network.outgoing.ignore_localhost says.
 *
 * Read once per process on the first loopback:53 destination (one ReadFile), then kept. */
#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>

#include "config.h"
#include "rpc.h"
#include "socket.h"

#define MAX_NS 8

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static bool loaded;
static pl_addr ns[MAX_NS];
static int n_ns;

static void add(pl_addr *list, int *n, int family, const void *ip) {
  if (*n >= MAX_NS) return;
  pl_addr *a = &list[(*n)++];
  memset(a, 0, sizeof *a);
  a->family = (uint8_t)family;
  a->port = 53;
  memcpy(a->ip, ip, family == 4 ? 4 : 16);
}

/* resolv.conf(5): "nameserver ADDRESS" lines; none at all means 127.0.0.1, as glibc and c-ares do. */
static void parse(const char *p, size_t len, pl_addr *list, int *n) {
  const char *end = p + len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    char line[256];
    size_t l = (size_t)(eol - p) < sizeof line - 1 ? (size_t)(eol - p) : sizeof line - 1;
    memcpy(line, p, l);
    line[l] = '\0';
    p = eol + 1;
    char word[16], addr[128];
    if (sscanf(line, " %15s %127s", word, addr) != 2 || strcmp(word, "nameserver") != 0) continue;
    char *pct = strchr(addr, '%');
    if (pct) *pct = '\0';
    uint8_t buf[16];
    if (inet_pton(AF_INET, addr, buf) == 1) add(list, n, 4, buf);
    else if (inet_pton(AF_INET6, addr, buf) == 1) add(list, n, 6, buf);
  }
  if (*n == 0) add(list, n, 4, (const uint8_t[]){127, 0, 0, 1});
}

static bool load(void) {
  pthread_mutex_lock(&mu);
  bool done = loaded;
  pthread_mutex_unlock(&mu);
  if (done) return true;
  pl_msg req = {.type = PL_MSG_READ_FILE};
  req.u.read_file.path = pl_str("/etc/resolv.conf", 16);
  req.u.read_file.offset = 0;
  req.u.read_file.max = 65536;
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_FILE_DATA, &resp);
  pl_addr list[MAX_NS];
  int n = 0;
  if (r == 0) parse((const char *)resp.msg.u.file_data.data.p, resp.msg.u.file_data.data.len, list, &n);
  else if (r == ENOENT) parse("", 0, list, &n);
  pl_resp_free(&resp);
  if (r != 0 && r != ENOENT) return false; /* not known now: asked again next time */
  pthread_mutex_lock(&mu);
  if (!loaded) {
    memcpy(ns, list, sizeof list);
    n_ns = n;
    loaded = true;
  }
  pthread_mutex_unlock(&mu);
  pl_debug("nameservers: %d from the target's resolv.conf", n);
  return true;
}

bool pl_target_nameserver(const pl_addr *a) {
  if (!pl_cfg.dns || a->port != 53 || !load()) return false;
  for (int i = 0; i < n_ns; i++)
    if (ns[i].family == a->family && memcmp(ns[i].ip, a->ip, a->family == 4 ? 4 : 16) == 0) return true;
  return false;
}
