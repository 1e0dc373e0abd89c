/* What the socket hooks share: is a destination remote, the Connect request (with the socket's own
 * bound address as its source), the intproxy endpoint as a sockaddr, the last close of a socket. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "config.h"
#include "real.h"
#include "rpc.h"
#include "socket.h"

bool pl_remote_dest(const struct sockaddr *sa, socklen_t len, pl_addr *a, enum pl_bypass *why) {
  memset(a, 0, sizeof *a);
  *why = BYPASS_NOT_INET;
  if (!sa || len < sizeof(sa_family_t)) return false;
  if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    a->family = 4;
    a->port = ntohs(in->sin_port);
    memcpy(a->ip, &in->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    a->port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      a->family = 4;
      memcpy(a->ip, &in6->sin6_addr.s6_addr[12], 4);
    } else {
      a->family = 6;
      memcpy(a->ip, &in6->sin6_addr, 16);
      if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) return *why = BYPASS_UNSPECIFIED_ADDR, false;
      if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) && pl_cfg.ignore_localhost && !pl_target_nameserver(a))
        return *why = BYPASS_LOOPBACK, false;
      return true;
    }
  } else {
    return false;
  }
  if (!a->ip[0] && !a->ip[1] && !a->ip[2] && !a->ip[3]) return *why = BYPASS_UNSPECIFIED_ADDR, false;
  if (a->ip[0] == 127 && pl_cfg.ignore_localhost && !pl_target_nameserver(a)) return *why = BYPASS_LOOPBACK, false;
  return true;
}

socklen_t pl_endpoint(const pl_addr *a, int fam, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (fam == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(a->port);
    if (a->family == 6) {
      memcpy(&in6->sin6_addr, a->ip, 16);
    } else { /* ::ffff:a.b.c.d */
      in6->sin6_addr.s6_addr[10] = in6->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&in6->sin6_addr.s6_addr[12], a->ip, 4);
    }
    return sizeof *in6;
  }
  if (a->family != 4) return 0; /* an AF_INET socket cannot reach an IPv6 endpoint */
  struct sockaddr_in *in = (struct sockaddr_in *)out;
  in->sin_family = AF_INET;
  in->sin_port = htons(a->port);
  memcpy(&in->sin_addr, a->ip, 4);
  return sizeof *in;
}

bool pl_same_sockaddr(const struct sockaddr *x, socklen_t xl, const struct sockaddr_storage *y, socklen_t yl) {
  if (x->sa_family != y->ss_family) return false;
  if (x->sa_family == AF_INET && xl >= sizeof(struct sockaddr_in) && yl >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *a = (const void *)x, *b = (const void *)y;
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  if (x->sa_family == AF_INET6 && xl >= sizeof(struct sockaddr_in6) && yl >= sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *a = (const void *)x, *b = (const void *)y;
    return a->sin6_port == b->sin6_port && memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0;
  }
  return false;
}

void pl_connect_request(pl_msg *req, int proto, const pl_addr *remote, int fam, const pl_addr *source) {
  memset(req, 0, sizeof *req);
  req->type = PL_MSG_CONNECT;
  req->u.connect.proto = (uint8_t)proto;
  req->u.connect.remote = *remote;
  req->u.connect.local_family = fam == AF_INET6 ? 6 : 4;
  req->u.connect.source = *source;
}

int pl_bound_source(int fd, int family, pl_addr *source) {
  struct sockaddr_storage ss;
  for (int attempt = 0; attempt < 2; attempt++) {
    socklen_t len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return errno;
    memset(source, 0, sizeof *source);
    if (ss.ss_family == AF_INET6) {
      const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
      source->family = 6;
      source->port = ntohs(in6->sin6_port);
      memcpy(source->ip, &in6->sin6_addr, 16);
    } else if (ss.ss_family == AF_INET) {
      const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
      source->family = 4;
      source->port = ntohs(in->sin_port);
      memcpy(source->ip, &in->sin_addr, 4);
    } else {
      return EAFNOSUPPORT;
    }
    if (source->port) return 0;
    /* Unbound: take a port now, as connect or the first send would (the wildcard keeps every route). */
    struct sockaddr_storage any = {.ss_family = (sa_family_t)family};
    socklen_t any_len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *)&any, any_len) != 0) return errno;
  }
  return EADDRNOTAVAIL;
}

int pl_open_remote(int proto, const pl_addr *remote, int fam, const pl_addr *source, uint32_t *conn,
                   struct sockaddr_storage *local, socklen_t *local_len) {
  pl_msg req;
  pl_connect_request(&req, proto, remote, fam, source);
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_CONNECTED, &resp);
  if (r == 0) {
    *conn = resp.msg.u.connected.conn;
    *local_len = pl_endpoint(&resp.msg.u.connected.local, fam, local);
    if (!*local_len) r = EAFNOSUPPORT;
  }
  pl_resp_free(&resp);
  if (pl_rpc_gone(r)) return ECONNREFUSED;
  return r;
}

void pl_release_conn(uint32_t conn) {
  pl_msg req = {.type = PL_MSG_RELEASE};
  req.u.release.conn = conn;
  pl_rpc_send_only(&req);
}

/* Called when the last descriptor of a tracked socket closes. Silent (close path). */
void pl_socket_release(struct pl_fdobj *o) {
  if (o->kind == FDK_TCP) {
    /* A relayed TCP connection ends when the intproxy sees our socket close; one still being set up
     * in the background is abandoned now. */
    if (o->cstate == CS_PENDING || o->cstate == CS_SWITCHING) pl_pending_cancel(o);
    return;
  }
  if (o->connected) pl_release_conn(o->conn);
  for (int i = 0; i < o->n_relays; i++) pl_release_conn(o->relays[i].conn);
}

int pl_sock_type(int fd) {
  int type = -1;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return -1;
  return type;
}

int pl_wanted_proto(int type, enum pl_bypass *why) {
  if (type == SOCK_STREAM) return pl_cfg.tcp ? 1 : (*why = BYPASS_FEATURE_OFF, 0);
  if (type == SOCK_DGRAM) return pl_cfg.udp ? 2 : (*why = BYPASS_FEATURE_OFF, 0);
  *why = BYPASS_SOCKET_TYPE;
  return 0;
}

