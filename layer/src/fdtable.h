/* What the layer knows about the process's descriptors (fdtable.c): a flat array indexed by fd, so the
 * common case (an fd the layer never touched) costs one load. Entries are reference-counted objects,
 * shared by dup'd descriptors; the last close finalises them. Descriptors >= PL_FD_MAX pass through. */
#ifndef PODLINK_FDTABLE_H
#define PODLINK_FDTABLE_H

#include "common.h"

#include <netinet/in.h>

#define PL_FD_MAX 65536

enum pl_fd_kind {
  FDK_LAYER = 1, /* one of our intproxy connections: survives the app's close/dup2/close_range */
  FDK_TCP,       /* a TCP socket connected to a remote through the intproxy */
  FDK_UDP,       /* a UDP socket with relays (connected, or per-destination for sendto) */
  FDK_WFILE,     /* a memfd standing for a remote file opened for writing: written back on last close */
  FDK_RDIR,      /* an empty memfd standing for a remote directory opened read-only (for fdopendir) */
  FDK_LISTEN,    /* a TCP socket the app bound (hooks_listen.c): announced to the intproxy once listening */
  FDK_INCOMING,  /* a connection the intproxy delivered to a listener: getpeername gives the real client */
  FDK_RFILE,     /* a memfd of a remote file whose bytes are still arriving (file_stream.c) */
};

struct pl_relay {
  struct sockaddr_storage remote; /* as the app gave it */
  socklen_t remote_len;
  struct sockaddr_storage local;  /* the intproxy's endpoint, in the socket's family */
  socklen_t local_len;
  uint32_t conn;
};

#define PL_MAX_RELAYS 8

struct pl_fdobj {
  int refs;
  uint8_t kind;
  ino_t ino; /* of the socket when tracked: detects an fd closed behind our back and reused */
  /* sockets */
  bool connected;
  struct sockaddr_storage peer; /* the remote as the app gave it to connect */
  socklen_t peer_len;
  struct sockaddr_storage local; /* the intproxy endpoint the socket is really connected to */
  socklen_t local_len;
  uint32_t conn;
  int sock_family;
  /* TCP connects completed in the background (connect.c, pending.c), guarded by pl_pending_lock */
  uint8_t cstate; /* enum pl_cstate */
  int cerr;       /* CS_FAILED: the errno to report once (0: already reported by SO_ERROR) */
  int pslot;      /* the pending.c slot while PENDING/SWITCHING */
  struct pl_relay relays[PL_MAX_RELAYS]; /* unconnected UDP, guarded by pl_fd_lock */
  int n_relays;
  /* write-back files and remote directories */
  char *path;
  uint32_t mode;
  /* FDK_RFILE */
  struct pl_stream *stream;
  /* FDK_LISTEN: the port the app asked for (listen_ports may have bound another); announced = the
   * intproxy subscribed it (local: the socket's real address) */
  uint16_t app_port;
  bool announced;
};

extern struct pl_fdobj *pl_fds[PL_FD_MAX] PL_HIDDEN;
/* One past the highest fd that ever held an object (tracked socket, file or directory). */
extern int pl_fd_end PL_HIDDEN;
extern struct pl_fdobj pl_layer_mark PL_HIDDEN;

static inline struct pl_fdobj *pl_fd_get(int fd) {
  if (PL_UNLIKELY((unsigned)fd >= PL_FD_MAX)) return NULL;
  return __atomic_load_n(&pl_fds[fd], __ATOMIC_ACQUIRE);
}

static inline bool pl_fd_is_layer(int fd) { return pl_fd_get(fd) == &pl_layer_mark; }

void pl_fd_mark_layer(int fd, bool on) PL_HIDDEN;
/* Sets the place of the layer's own descriptors (constructor only). */
void pl_fd_high_init(void) PL_HIDDEN;
/* Moves fd (a descriptor of ours) to at least `below` under that place, and marks it as the layer's;
 * returns the new fd (fd itself when it cannot move, and negative fds unchanged). */
int pl_fd_take_high(int fd, int below) PL_HIDDEN;
struct pl_fdobj *pl_fd_new(int kind) PL_HIDDEN;
/* Installs obj at fd (taking the caller's reference), finalising whatever was there. */
void pl_fd_install(int fd, struct pl_fdobj *obj) PL_HIDDEN;
/* fd is being closed (or replaced): detach it and finalise the object when it was the last reference.
 * Finalising may read fd (write-back), so call this before the real close. Returns 0, or -1 with errno
 * when a write-back failed. */
int pl_fd_release(int fd) PL_HIDDEN;
/* newfd now refers to the same open file as oldfd. Call after the real dup succeeded. */
void pl_fd_copy(int oldfd, int newfd) PL_HIDDEN;
/* Drops the entry without finalising (the fd was found closed behind our back). */
void pl_fd_forget(int fd) PL_HIDDEN;

void pl_fd_lock(void) PL_HIDDEN;
void pl_fd_unlock(void) PL_HIDDEN;
void pl_fd_atfork_child(void) PL_HIDDEN;

/* Finalisers implemented by the areas (hooks_file.c, hooks_socket.c). */
int pl_file_writeback(int fd, struct pl_fdobj *obj) PL_HIDDEN;
void pl_socket_release(struct pl_fdobj *obj) PL_HIDDEN;
void pl_listen_release(struct pl_fdobj *obj) PL_HIDDEN;

#endif
