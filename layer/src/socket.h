/* What the socket hooks share (socket.c): deciding whether a destination is remote, asking the intproxy
 * for a connection, and the intproxy endpoint as a sockaddr. */
#ifndef PODLINK_SOCKET_H
#define PODLINK_SOCKET_H

#include "common.h"
#include "fdtable.h"
#include "proto.h"

/* Is sa an outgoing destination the layer handles? Fills a (IPv4-mapped IPv6 as family 4). Loopback
 * stays local unless PODLINK_IGNORE_LOCALHOST=0 — or it is port 53 of a nameserver named in the
 * target's resolv.conf (resolvers that read it themselves must reach the target's DNS). */
bool pl_remote_dest(const struct sockaddr *sa, socklen_t len, pl_addr *a, enum pl_bypass *why) PL_HIDDEN;
/* The intproxy endpoint as a sockaddr the user's socket (of family fam) can connect or send to. */
socklen_t pl_endpoint(const pl_addr *a, int fam, struct sockaddr_storage *out) PL_HIDDEN;
bool pl_same_sockaddr(const struct sockaddr *x, socklen_t xl, const struct sockaddr_storage *y, socklen_t yl) PL_HIDDEN;
/* The socket's own address, binding it first (to the wildcard, port 0) when it has none: the intproxy
 * serves an endpoint only to this port (Connect.source). Returns 0 or an errno. */
int pl_bound_source(int fd, int family, pl_addr *source) PL_HIDDEN;
/* The Connect request for fd. */
void pl_connect_request(pl_msg *req, int proto, const pl_addr *remote, int fam, const pl_addr *source) PL_HIDDEN;
/* Asks the intproxy for a connection (one round trip). Returns 0 (conn and endpoint filled), or the
 * errno to report. */
int pl_open_remote(int proto, const pl_addr *remote, int fam, const pl_addr *source, uint32_t *conn,
                   struct sockaddr_storage *local, socklen_t *local_len) PL_HIDDEN;
void pl_release_conn(uint32_t conn) PL_HIDDEN;
int pl_sock_type(int fd) PL_HIDDEN;
/* 1 tcp, 2 udp, or 0 with *why when this socket type or feature is not handled. */
int pl_wanted_proto(int type, enum pl_bypass *why) PL_HIDDEN;

/* nameservers.c: is a (loopback) address port 53 of one of the target's resolv.conf nameservers? */
bool pl_target_nameserver(const pl_addr *a) PL_HIDDEN;

/* connect.c: non-blocking connects completed in the background (pending.c). */
enum pl_cstate {
  CS_CONNECTED = 0, /* the socket is connected (or connecting) to its endpoint: the kernel answers */
  CS_PENDING,       /* the target is still connecting; the socket is a silent placeholder listener */
  CS_SWITCHING,     /* the completer is moving the socket from the placeholder to the endpoint */
  CS_FAILED,        /* the target's connect failed with cerr; the socket was refused locally */
};
/* Starts the background completion of a non-blocking connect: 0 (EINPROGRESS to the app) or an errno;
 * ENOSPC/EAGAIN mean "do it synchronously instead". */
int pl_pending_start(int fd, struct pl_fdobj *o, const pl_msg *req) PL_HIDDEN;
/* Waits until o is no longer PENDING/SWITCHING (a blocking connect, or SO_ERROR during the switch). */
void pl_pending_wait(struct pl_fdobj *o, bool whole_connect) PL_HIDDEN;
/* The app closed the socket: stop its background completion (the intproxy abandons the connection). */
void pl_pending_cancel(struct pl_fdobj *o) PL_HIDDEN;
void pl_pending_lock(void) PL_HIDDEN;
void pl_pending_unlock(void) PL_HIDDEN;
void pl_pending_atfork_prepare(void) PL_HIDDEN;
void pl_pending_atfork_parent(void) PL_HIDDEN;
void pl_pending_atfork_child(void) PL_HIDDEN;
/* The switch from placeholder to endpoint and the pollers (hooks_poll.c): while a switch runs, no
 * hooked poll/select/epoll wait of this process is inside the kernel, so none can see the socket
 * between its disconnect and its connect. A waiter announces itself in a slot before it enters the
 * kernel (and backs off while a switch is wanted); the completer sets pl_switch_wanted, kicks every
 * announced waiter out of the kernel (the kick eventfd is in their poll sets, or is added to their
 * epoll sets with PL_KICK_DATA), waits for the slots to empty, switches, then lets them in again. */
#define PL_WAITERS 1024
#define PL_WAITER_POLL (-1) /* slot value of a poll/select waiter whose set holds the kick eventfd */
/* The epoll data of the kick eventfd: not a canonical user-space pointer, nor a small integer. */
#define PL_KICK_DATA 0xfeed706c6b69636bULL
extern int pl_waiters[PL_WAITERS] PL_HIDDEN;  /* 0 free, PL_WAITER_POLL, or epfd + 1 */
extern int pl_switch_wanted PL_HIDDEN;        /* a switch is about to run, or running */
extern int pl_pending_count PL_HIDDEN;        /* background connects not yet switched */
extern int pl_kick_fd PL_HIDDEN;              /* readable while a switch kicks the waiters out */
/* A waiter that found a switch wanted: waits until it has ended. */
void pl_pending_wait_switch(void) PL_HIDDEN;
/* A waiter left its slot while a switch was wanted: tells the completer. */
void pl_pending_waiter_left(void) PL_HIDDEN;

/* pending.c's condition, for switch.c: wait on it (its lock held) until `until`; wake all its waiters. */
struct timespec;
void pl_pending_timedwait(const struct timespec *until) PL_HIDDEN;
void pl_pending_broadcast(void) PL_HIDDEN;
/* switch.c: the placeholder's drop-everything filter on or off; the move to `to` (0 or an errno); every
 * hooked waiter kept out of the kernel around it (returns how many epoll sets got the kick added). */
void pl_set_filter(int fd, bool drop_all) PL_HIDDEN;
int pl_switch_to(int fd, const struct sockaddr_storage *to, socklen_t to_len) PL_HIDDEN;
int pl_exclude_waiters(int kicked[PL_WAITERS]) PL_HIDDEN;
void pl_admit_waiters(const int kicked[PL_WAITERS], int nk) PL_HIDDEN;

/* The address of a local socket that refuses connections (bound, never listening). */
socklen_t pl_refuser(int fam, struct sockaddr_storage *out) PL_HIDDEN;

#endif
