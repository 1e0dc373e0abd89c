/* What the layer's listen/accept hooks (hooks_listen.c) and the supervisor's (supervisor/src/listen.c)
 * share: the intproxy requests of incoming traffic, and addresses in the protocol's form. */
#ifndef PODLINK_INCOMING_H
#define PODLINK_INCOMING_H

#include "common.h"
#include "proto.h"

#include <sys/socket.h>

/* sa as a protocol address; IPv4-mapped IPv6 as family 4. sa must be AF_INET or AF_INET6. */
void pl_addr_of(const struct sockaddr *sa, pl_addr *a) PL_HIDDEN;
uint16_t pl_sockaddr_port(const struct sockaddr *sa) PL_HIDDEN;
void pl_sockaddr_set_port(struct sockaddr *sa, uint16_t port) PL_HIDDEN;
/* listen_ports: the local port a bind to `port` really takes (the same port when not mapped). */
uint16_t pl_listen_local_port(uint16_t port) PL_HIDDEN;
/* An AF_INET/AF_INET6 address of at least its family's size. */
bool pl_inet_sockaddr(const struct sockaddr *sa, socklen_t len) PL_HIDDEN;
/* Listen{local, port}: the app listens at `local` on the port it asked for (the target's port, before
 * port_mapping); answered once the agent has subscribed it. 0, or as pl_rpc. */
int pl_listen_announce(const struct sockaddr *local, uint16_t port) PL_HIDDEN;
/* A connection accepted from a listener announced at `listener` came from `kpeer`: if the intproxy
 * delivered it (it connects from loopback), 0 and the real client in *remote; else an errno (ENOENT:
 * a local client). */
int pl_incoming_peer(const struct sockaddr *kpeer, const struct sockaddr *listener, pl_addr *remote) PL_HIDDEN;

#endif
