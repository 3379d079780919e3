/* iov.c: sizes of, walks over and copies in and out of iovecs (see iov.h). */
#include <string.h>
#include "iov.h"

size_t iov_size(const struct iovec *iov, int iovcnt)
{
    size_t len = 0;
    for (int i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    return len;
}

bool iov_walk(const struct iovec *iov, int iovcnt, size_t from, size_t len, IovChunkFn *fn,
              void *opaque)
{
    for (int i = 0; i < iovcnt && len; i++) {
        if (from >= iov[i].iov_len) {
            from -= iov[i].iov_len;
            continue;
        }
        size_t chunk = len < iov[i].iov_len - from ? len : iov[i].iov_len - from;
        if (!fn((char *)iov[i].iov_base + from, chunk, opaque)) {
            return false;
        }
        len -= chunk;
        from = 0;
    }
    return true;
}

typedef struct {
    char *out;
    const char *in;
    size_t done;
} IovCopy;

static bool iov_copy_out(void *p, size_t n, void *opaque)
{
    IovCopy *c = opaque;
    memcpy(c->out + c->done, p, n);
    c->done += n;
    return true;
}

static bool iov_copy_in(void *p, size_t n, void *opaque)
{
    IovCopy *c = opaque;
    memcpy(p, c->in + c->done, n);
    c->done += n;
    return true;
}

size_t iov_to_buf(const struct iovec *iov, int iovcnt, size_t from, void *buf, size_t len)
{
    IovCopy c = {.out = buf};
    iov_walk(iov, iovcnt, from, len, iov_copy_out, &c);
    return c.done;
}

size_t iov_from_buf(const struct iovec *iov, int iovcnt, size_t from, const void *buf,
                    size_t len)
{
    IovCopy c = {.in = buf};
    iov_walk(iov, iovcnt, from, len, iov_copy_in, &c);
    return c.done;
}
