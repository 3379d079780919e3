/*
 * iov.h: the one walker over a scatter-gather list (struct iovec): frames travel between
 * NICs and backends as iovecs, and every copy in or out of one goes through here.
 * Offsets count bytes from the start of the whole list; a range that runs past its end
 * stops there.
 */
#ifndef TERN_IOV_H
#define TERN_IOV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

/* The bytes in the list. */
size_t iov_size(const struct iovec *iov, int iovcnt);

/* Called on each piece of a range, in order; false stops the walk. */
typedef bool IovChunkFn(void *p, size_t n, void *opaque);
/* Walk bytes [from, from + len); false when fn stopped it. */
bool iov_walk(const struct iovec *iov, int iovcnt, size_t from, size_t len, IovChunkFn *fn,
              void *opaque);

/* Copy bytes [from, from + len) out into buf; returns the bytes copied. */
size_t iov_to_buf(const struct iovec *iov, int iovcnt, size_t from, void *buf, size_t len);
/* Copy buf into bytes [from, from + len); returns the bytes copied. */
size_t iov_from_buf(const struct iovec *iov, int iovcnt, size_t from, const void *buf,
                    size_t len);

#endif
