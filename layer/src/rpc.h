/* Requests to the intproxy over a small pool of unix-socket connections (rpc.c). */
#ifndef PODLINK_RPC_H
#define PODLINK_RPC_H

#include "common.h"
#include "proto.h"

/* Returned by pl_rpc when the intproxy cannot be reached or the link broke (also after a retry). */
#define PL_RPC_GONE (-1)
/* pl_rpc_answer: only the Hello's answer has come so far; poll again. */
#define PL_RPC_NOT_YET (-2)

struct pl_resp {
  pl_msg msg;
  uint8_t *heap; /* frame buffer when it did not fit inline */
  uint8_t inline_buf[2048];
};

/* Sends req (its id is assigned here) and waits for the answer. Returns 0 when the answer has type
 * `want` (resp->msg holds it), the errno of an Error answer (> 0), or PL_RPC_GONE. Always call
 * pl_resp_free afterwards. */
int pl_rpc(pl_msg *req, uint16_t want, struct pl_resp *resp) PL_HIDDEN;
void pl_resp_free(struct pl_resp *resp) PL_HIDDEN;

/* Stat of a path in the target: 0 with *st filled, or as pl_rpc. */
int pl_rpc_stat(const char *path, bool follow, pl_stat *st) PL_HIDDEN;

/* A request with no answer (Release). Best effort. */
void pl_rpc_send_only(pl_msg *req) PL_HIDDEN;

/* A request on a connection of its own, answered later (a non-blocking connect): returns that
 * connection (marked as the layer's, CLOEXEC) with its Hello and the request sent in one write, or -1.
 * Closing it before the answer arrives tells the intproxy the request is abandoned; after the answer,
 * an endpoint that will not be used is given back with Release (pl_rpc_send_and_drop). */
int pl_rpc_dedicated(pl_msg *req) PL_HIDDEN;
/* Reads the answer to request `id` on a dedicated connection: as pl_rpc, after the Hello's answer; or
 * PL_RPC_NOT_YET when that was all there was to read. */
int pl_rpc_answer(int fd, uint32_t id, uint16_t want, struct pl_resp *resp) PL_HIDDEN;
void pl_rpc_drop(int fd) PL_HIDDEN;
/* Sends a request that has no answer (Release) on a dedicated connection, then closes it. */
void pl_rpc_send_and_drop(int fd, pl_msg *req) PL_HIDDEN;

/* True when an rpc result means "agent gone or intproxy unreachable". */
static inline bool pl_rpc_gone(int r) { return r == PL_RPC_GONE || r == EHOSTDOWN; }

/* dup2/dup3 onto one of our fds: move our connection to another number first. */
void pl_rpc_move_fd(int fd) PL_HIDDEN;

void pl_rpc_atfork_prepare(void) PL_HIDDEN;
void pl_rpc_atfork_parent(void) PL_HIDDEN;
void pl_rpc_atfork_child(void) PL_HIDDEN;

#endif
