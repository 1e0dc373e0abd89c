/* Remote files read while they arrive (file_stream.c). A read-only open of a large remote file returns
 * as soon as its first chunk is in the memfd: the rest is fetched by a thread of the stream, chunk by
 * chunk, into the same memfd (through a shared mapping of it), and a read that reaches past what has
 * arrived waits for it (hooks_read.c). */
#ifndef PODLINK_FILE_STREAM_H
#define PODLINK_FILE_STREAM_H

#include "common.h"
#include "proto.h"

/* The first chunk an open waits for: small, so that open returns in about a round trip. */
#define PL_STREAM_FIRST_CHUNK (256u * 1024u)

struct pl_stream;

/* Starts fetching path from `from` into memfd (already holding [0, from), st->size long): returns the
 * stream, with one reference for the caller's descriptor, or NULL (nothing started). */
struct pl_stream *pl_stream_start(int memfd, const char *path, const pl_stat *st, uint64_t from) PL_HIDDEN;
/* A descriptor of the stream closed (fdtable.c's finaliser): the last one stops the fetching. */
void pl_stream_unref(struct pl_stream *s) PL_HIDDEN;

/* True while bytes are still arriving: the only case in which a read must look at the stream. */
bool pl_stream_running(const struct pl_stream *s) PL_HIDDEN;
/* Waits until [0, end) has arrived (end is capped at the file's size), or everything has. Returns 0,
 * or an errno when the fetch failed before reaching end. */
int pl_stream_wait(struct pl_stream *s, uint64_t end) PL_HIDDEN;
static inline int pl_stream_wait_all(struct pl_stream *s) { return pl_stream_wait(s, UINT64_MAX); }

/* fork: every stream of the process arrives first (the child has no fetching thread). */
void pl_stream_settle_all(void) PL_HIDDEN;

#endif
