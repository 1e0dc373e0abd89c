/* A remote file's content in and out of its memfd (file_fetch.c). */
#ifndef PODLINK_FILE_FETCH_H
#define PODLINK_FILE_FETCH_H

#include "common.h"
#include "proto.h"

struct pl_stream;

/* The whole remote file into fd. Returns 0 (st filled), an errno, or PL_RPC_GONE. */
int pl_fetch_whole(int fd, const char *path, pl_stat *st) PL_HIDDEN;
/* A read-only open's fetch: the first chunk, then the rest by a stream; *stream is set when the app's
 * descriptor must stay attached to a stream still arriving (an open with O_CLOEXEC). Returns 0, an
 * errno, or PL_RPC_GONE. */
int pl_fetch_for_read(int fd, const char *path, int flags, pl_stat *st, struct pl_stream **stream) PL_HIDDEN;

#endif
