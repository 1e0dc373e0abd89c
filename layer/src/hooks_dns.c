/* Name resolution from the target: getaddrinfo and gethostbyname*. The intproxy resolves the name
 * (Resolve → Resolved: addresses as text-free wire addresses); the result list is built by the REAL
 * getaddrinfo called on each address with AI_NUMERICHOST, so service names, socktype/protocol
 * expansion, AI_V4MAPPED and family filtering are exactly glibc's. freeaddrinfo is not hooked: glibc
 * frees node by node (each node and its sockaddr are one allocation), so chained lists and a strdup'd
 * ai_canonname are freed correctly. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "config.h"
#include "real.h"
#include "rpc.h"
#include "socket.h"

/* Names that stay with the local resolver. */
static bool local_name(const char *node, int ai_flags, enum pl_bypass *why) {
  if (!pl_cfg.dns) return *why = BYPASS_FEATURE_OFF, true;
  if (!node || !*node || (ai_flags & AI_NUMERICHOST)) return *why = BYPASS_NUMERIC_HOST, true;
  unsigned char buf[16];
  struct in_addr a4;
  if (inet_pton(AF_INET, node, buf) == 1 || inet_pton(AF_INET6, node, buf) == 1 || inet_aton(node, &a4) ||
      strchr(node, ':'))
    return *why = BYPASS_NUMERIC_HOST, true;
  size_t n = strlen(node);
  if (n && node[n - 1] == '.') n--;
  if ((n == 9 && strncasecmp(node, "localhost", 9) == 0) ||
      (n > 10 && strncasecmp(node + n - 10, ".localhost", 10) == 0))
    return *why = BYPASS_LOCALHOST, true;
  return false;
}

/* A numeric address the socket hooks would send to the target. */
static bool remote_literal(const char *node) {
  if (!node) return false;
  struct sockaddr_storage ss = {0};
  socklen_t len = 0;
  if (inet_pton(AF_INET, node, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
    ss.ss_family = AF_INET;
    len = sizeof(struct sockaddr_in);
  } else if (inet_pton(AF_INET6, node, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
    ss.ss_family = AF_INET6;
    len = sizeof(struct sockaddr_in6);
  } else {
    return false;
  }
  pl_addr a;
  enum pl_bypass why;
  return pl_remote_dest((struct sockaddr *)&ss, len, &a, &why);
}

/* Resolve{name, family}. Returns 0 (resp holds Resolved), an errno, or PL_RPC_GONE. */
static int resolve(const char *name, uint8_t family, struct pl_resp *resp) {
  pl_msg req = {.type = PL_MSG_RESOLVE};
  req.u.resolve.name = pl_str(name, strlen(name));
  req.u.resolve.family = family;
  return pl_rpc(&req, PL_MSG_RESOLVED, resp);
}

static int eai_of(int r) {
  switch (r) {
    case ENOENT: return EAI_NONAME;
    case ENODATA: return EAI_NODATA;
    case EAGAIN:
    case EHOSTDOWN:
    case PL_RPC_GONE: return EAI_AGAIN;
    default: return EAI_FAIL;
  }
}

static const char *addr_text(const pl_addr *a, char *buf, size_t cap) {
  return inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->ip, buf, (socklen_t)cap);
}

/* ---- AI_ADDRCONFIG, judged in the target ----------------------------------------------------------
 * glibc decides AI_ADDRCONFIG from this machine's interfaces; on a laptop with nothing but loopback it
 * refuses every AF_INET lookup. The answer is used in the target's network, so the target's interfaces
 * decide (GetAddrConfig, asked once per process), with glibc's own rule (getaddrinfo.c): a family the
 * target lacks → EAI_NONAME; AF_UNSPEC narrows to the one family it has. */
static int target_families = -1; /* bit 0: IPv4, bit 1: IPv6; -1 unknown */

static int addrconfig_families(void) {
  int known = __atomic_load_n(&target_families, __ATOMIC_ACQUIRE);
  if (known >= 0) return known;
  pl_msg req = {.type = PL_MSG_GET_ADDR_CONFIG};
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_ADDR_CONFIG, &resp);
  int fams = r == 0 ? (resp.msg.u.addr_config.ipv4 ? 1 : 0) | (resp.msg.u.addr_config.ipv6 ? 2 : 0) : -1;
  pl_resp_free(&resp);
  if (fams >= 0) __atomic_store_n(&target_families, fams, __ATOMIC_RELEASE);
  return fams;
}

/* Rewrites h for the real getaddrinfo: AI_ADDRCONFIG applied here, with the target's families.
 * Returns 0, or EAI_NONAME when the target could not use any answer. */
static int apply_addrconfig(struct addrinfo *h) {
  if (!(h->ai_flags & AI_ADDRCONFIG)) return 0;
  int fams = addrconfig_families();
  if (fams < 0) return 0; /* not known (agent gone): leave it to glibc */
  h->ai_flags &= ~AI_ADDRCONFIG;
  bool v4 = fams & 1, v6 = fams & 2;
  if (h->ai_family == AF_UNSPEC) {
    if (v4 != v6) h->ai_family = v4 ? AF_INET : AF_INET6;
  } else if ((h->ai_family == AF_INET && !v4) || (h->ai_family == AF_INET6 && !v6)) {
    return EAI_NONAME;
  }
  return 0;
}

static int build(const char *node, const char *service, const struct addrinfo *hints, const pl_msg *m,
                 struct addrinfo **res) {
  struct addrinfo h = {.ai_family = AF_UNSPEC, .ai_flags = AI_V4MAPPED | AI_ADDRCONFIG}; /* glibc's default */
  if (hints) h = *hints;
  int ac = apply_addrconfig(&h);
  if (ac) return ac;
  int flags = h.ai_flags;
  h.ai_flags = (flags | AI_NUMERICHOST) & ~AI_CANONNAME;
  h.ai_canonname = NULL;
  h.ai_addr = NULL;
  h.ai_next = NULL;
  bool any_v6 = false;
  const uint8_t *c = m->u.resolved.addrs.p;
  for (uint32_t i = 0; i < m->u.resolved.addrs.count; i++) {
    pl_addr a;
    pl_next_addr(&c, &a);
    any_v6 |= a.family == 6;
  }
  /* AI_V4MAPPED without AI_ALL: mapped IPv4 only when there is no IPv6 answer. */
  bool skip_v4 = h.ai_family == AF_INET6 && (flags & AI_V4MAPPED) && !(flags & AI_ALL) && any_v6;
  struct addrinfo *head = NULL, **tail = &head;
  int last_err = EAI_NONAME;
  c = m->u.resolved.addrs.p;
  for (uint32_t i = 0; i < m->u.resolved.addrs.count; i++) {
    pl_addr a;
    pl_next_addr(&c, &a);
    if (skip_v4 && a.family == 4) continue;
    char text[INET6_ADDRSTRLEN];
    if (!addr_text(&a, text, sizeof text)) continue;
    struct addrinfo *part = NULL;
    int r = pl_real.getaddrinfo(text, service, &h, &part);
    if (r != 0) {
      last_err = r == EAI_ADDRFAMILY ? EAI_NONAME : r;
      continue;
    }
    *tail = part;
    while (*tail) tail = &(*tail)->ai_next;
  }
  if (!head) return m->u.resolved.addrs.count ? last_err : EAI_NODATA;
  if (flags & AI_CANONNAME) {
    pl_bytes cn = m->u.resolved.canonical;
    head->ai_canonname = cn.len ? strndup((const char *)cn.p, cn.len) : strdup(node);
  }
  *res = head;
  return 0;
}

PL_EXPORT int getaddrinfo(const char *restrict node, const char *restrict service,
                          const struct addrinfo *restrict hints, struct addrinfo **restrict res) {
  if (!pl_enter()) return pl_real.getaddrinfo(node, service, hints, res);
  int saved = errno;
  enum pl_bypass why;
  if (local_name(node, hints ? hints->ai_flags : 0, &why)) {
    /* A literal address that will be reached in the target: AI_ADDRCONFIG is the target's too. */
    struct addrinfo h;
    const struct addrinfo *use = hints;
    if (why == BYPASS_NUMERIC_HOST && pl_cfg.dns && hints && (hints->ai_flags & AI_ADDRCONFIG) && remote_literal(node)) {
      h = *hints;
      if (apply_addrconfig(&h)) {
        pl_leave();
        errno = saved;
        return EAI_NONAME;
      }
      use = &h;
    }
    pl_leave();
    pl_bypass("getaddrinfo", why, node);
    errno = saved;
    return pl_real.getaddrinfo(node, service, use, res);
  }
  int fam = hints ? hints->ai_family : AF_UNSPEC;
  int flags = hints ? hints->ai_flags : 0;
  uint8_t want = fam == AF_INET ? 4 : (fam == AF_INET6 && !(flags & AI_V4MAPPED)) ? 6 : 0;
  struct pl_resp resp;
  int r = resolve(node, want, &resp);
  int rc = r == 0 ? build(node, service, hints, &resp.msg, res) : eai_of(r);
  pl_resp_free(&resp);
  pl_debug("getaddrinfo: remote %s -> %d", node, rc);
  pl_leave();
  errno = saved;
  return rc;
}

/* ---- gethostbyname family ---------------------------------------------------------------------- */

static int herr_of(int r) {
  switch (r) {
    case ENOENT: return HOST_NOT_FOUND;
    case ENODATA: return NO_DATA;
    case EAGAIN:
    case EHOSTDOWN:
    case PL_RPC_GONE: return TRY_AGAIN;
    default: return NO_RECOVERY;
  }
}

/* Fills ret in buf: pointer arrays, then addresses, then the name. Returns 0, ERANGE, or -1 with *herr
 * (a lookup failure). */
static int fill_hostent(const char *name, int af, struct hostent *ret, char *buf, size_t buflen, int *herr) {
  struct pl_resp resp;
  int r = resolve(name, af == AF_INET6 ? 6 : 4, &resp);
  if (r != 0) {
    pl_resp_free(&resp);
    *herr = herr_of(r);
    return -1;
  }
  const pl_msg *m = &resp.msg;
  int alen = af == AF_INET6 ? 16 : 4;
  uint32_t n = 0;
  const uint8_t *c = m->u.resolved.addrs.p;
  for (uint32_t i = 0; i < m->u.resolved.addrs.count; i++) {
    pl_addr a;
    pl_next_addr(&c, &a);
    n += a.family == (af == AF_INET6 ? 6 : 4);
  }
  const char *cname = m->u.resolved.canonical.len ? (const char *)m->u.resolved.canonical.p : name;
  size_t cname_len = m->u.resolved.canonical.len ? m->u.resolved.canonical.len : strlen(name);
  uintptr_t base = ((uintptr_t)buf + sizeof(char *) - 1) & ~(uintptr_t)(sizeof(char *) - 1);
  size_t pad = base - (uintptr_t)buf;
  size_t need = pad + (n + 2) * sizeof(char *) + (size_t)n * alen + cname_len + 1;
  if (need > buflen) {
    pl_resp_free(&resp);
    return ERANGE;
  }
  if (n == 0) {
    pl_resp_free(&resp);
    *herr = NO_DATA;
    return -1;
  }
  char **list = (char **)base;
  char **aliases = list + n + 1;
  char *addrs = (char *)(aliases + 1);
  char *nm = addrs + (size_t)n * alen;
  uint32_t k = 0;
  c = m->u.resolved.addrs.p;
  for (uint32_t i = 0; i < m->u.resolved.addrs.count; i++) {
    pl_addr a;
    pl_next_addr(&c, &a);
    if (a.family != (af == AF_INET6 ? 6 : 4)) continue;
    memcpy(addrs + (size_t)k * alen, a.ip, (size_t)alen);
    list[k] = addrs + (size_t)k * alen;
    k++;
  }
  list[k] = NULL;
  aliases[0] = NULL;
  memcpy(nm, cname, cname_len);
  nm[cname_len] = '\0';
  *ret = (struct hostent){.h_name = nm, .h_aliases = aliases, .h_addrtype = af, .h_length = alen, .h_addr_list = list};
  pl_resp_free(&resp);
  return 0;
}

static __thread struct {
  struct hostent he;
  char buf[1024];
} tls_host __attribute__((tls_model("initial-exec")));

static bool gethost_local(const char *name, int af) {
  enum pl_bypass why;
  if (af != AF_INET && af != AF_INET6) return true;
  if (local_name(name, 0, &why)) {
    pl_bypass("gethostbyname", why, name);
    return true;
  }
  return false;
}

PL_EXPORT struct hostent *gethostbyname2(const char *name, int af) {
  if (!pl_enter()) return pl_real.gethostbyname2(name, af);
  int saved = errno;
  if (gethost_local(name, af)) {
    pl_leave();
    errno = saved;
    return pl_real.gethostbyname2(name, af);
  }
  int herr = 0;
  int r = fill_hostent(name, af, &tls_host.he, tls_host.buf, sizeof tls_host.buf, &herr);
  pl_leave();
  errno = saved;
  if (r == 0) return &tls_host.he;
  h_errno = r == ERANGE ? NO_RECOVERY : herr;
  return NULL;
}

PL_EXPORT struct hostent *gethostbyname(const char *name) {
  if (!pl_enter()) return pl_real.gethostbyname(name);
  pl_leave();
  if (gethost_local(name, AF_INET)) return pl_real.gethostbyname(name);
  return gethostbyname2(name, AF_INET);
}

/* glibc's convention: 0 with *result NULL when the name is not found, EAGAIN to try again, ERANGE
 * when buf is too small. */
static int gethost_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
                     struct hostent **result, int *h_errnop) {
  int herr = 0;
  int r = fill_hostent(name, af, ret, buf, buflen, &herr);
  *result = r == 0 ? ret : NULL;
  if (r == 0) return 0;
  if (r == ERANGE) {
    *h_errnop = NETDB_INTERNAL;
    return ERANGE;
  }
  *h_errnop = herr;
  return herr == TRY_AGAIN ? EAGAIN : 0;
}

PL_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
                               struct hostent **result, int *h_errnop) {
  if (!pl_enter()) return pl_real.gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop);
  int saved = errno;
  if (gethost_local(name, af)) {
    pl_leave();
    errno = saved;
    return pl_real.gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop);
  }
  int rc = gethost_r(name, af, ret, buf, buflen, result, h_errnop);
  pl_leave();
  errno = rc ? rc : saved;
  return rc;
}

PL_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
                              struct hostent **result, int *h_errnop) {
  if (!pl_enter()) return pl_real.gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
  int saved = errno;
  if (gethost_local(name, AF_INET)) {
    pl_leave();
    errno = saved;
    return pl_real.gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
  }
  int rc = gethost_r(name, AF_INET, ret, buf, buflen, result, h_errnop);
  pl_leave();
  errno = rc ? rc : saved;
  return rc;
}
