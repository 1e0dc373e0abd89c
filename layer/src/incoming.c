/* Incoming traffic's intproxy requests and address conversions (incoming.h). */
#include "incoming.h"

#include <netinet/in.h>
#include <string.h>

#include "config.h"
#include "rpc.h"

bool pl_inet_sockaddr(const struct sockaddr *sa, socklen_t len) {
  if (!sa) return false;
  if (sa->sa_family == AF_INET) return len >= sizeof(struct sockaddr_in);
  if (sa->sa_family == AF_INET6) return len >= sizeof(struct sockaddr_in6);
  return false;
}

uint16_t pl_sockaddr_port(const struct sockaddr *sa) {
  return ntohs(sa->sa_family == AF_INET ? ((const struct sockaddr_in *)sa)->sin_port : ((const struct sockaddr_in6 *)sa)->sin6_port);
}

void pl_sockaddr_set_port(struct sockaddr *sa, uint16_t port) {
  if (sa->sa_family == AF_INET) ((struct sockaddr_in *)sa)->sin_port = htons(port);
  else ((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}

uint16_t pl_listen_local_port(uint16_t port) {
  for (int i = 0; i < pl_cfg.n_listen_ports; i++)
    if (pl_cfg.listen_ports[i].app == port) return pl_cfg.listen_ports[i].local;
  return port;
}

void pl_addr_of(const struct sockaddr *sa, pl_addr *a) {
  memset(a, 0, sizeof *a);
  a->port = pl_sockaddr_port(sa);
  if (sa->sa_family == AF_INET) {
    a->family = 4;
    memcpy(a->ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    return;
  }
  const struct in6_addr *in6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(in6)) {
    a->family = 4;
    memcpy(a->ip, &in6->s6_addr[12], 4);
  } else {
    a->family = 6;
    memcpy(a->ip, in6, 16);
  }
}

static bool loopback(const pl_addr *a) {
  if (a->family == 4) return a->ip[0] == 127;
  static const uint8_t one[16] = {[15] = 1};
  return memcmp(a->ip, one, 16) == 0;
}

int pl_listen_announce(const struct sockaddr *local, uint16_t port) {
  pl_msg req = {.type = PL_MSG_LISTEN};
  pl_addr_of(local, &req.u.listen.local);
  req.u.listen.port = port;
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_OK, &resp);
  pl_resp_free(&resp);
  return r;
}

int pl_incoming_peer(const struct sockaddr *kpeer, const struct sockaddr *listener, pl_addr *remote) {
  pl_msg req = {.type = PL_MSG_INCOMING_PEER};
  pl_addr_of(kpeer, &req.u.incoming_peer.peer);
  if (!loopback(&req.u.incoming_peer.peer)) return ENOENT; /* the intproxy connects over loopback only */
  pl_addr_of(listener, &req.u.incoming_peer.listener);
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_PEER, &resp);
  if (r == 0) *remote = resp.msg.u.peer.remote;
  pl_resp_free(&resp);
  return r;
}
