/*
 * mig-file.c: the migration byte stream. Writes are buffered and go out with poll() on
 * both the descriptor and the cancel descriptor, so nothing here blocks uninterruptibly.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bswap.h"
#include "error.h"
#include "main-loop.h"
#include "migration/mig-file.h"

#define MIG_FILE_BUF 65536
#define RATE_WINDOW_NS (100 * NS_PER_MS)

struct MigFile {
    int fd;              /* -1: memory backed */
    int cancel_fd;       /* -1: none */
    GByteArray *out_mem; /* buffer writer */
    const uint8_t *in_mem;
    size_t in_mem_len;
    uint8_t *wbuf; /* fd: bytes not yet written */
    size_t wbuf_len;
    uint8_t *buf; /* fd: bytes read, not yet consumed */
    size_t buf_len, buf_pos;
    uint64_t bytes;
    GError *err;
    uint64_t rate; /* bytes/s, 0 unlimited */
    int64_t window_start;
    uint64_t window_bytes;
    int64_t deadline; /* CLOCK_MONOTONIC ns after which every wait fails; 0: none */
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

MigFile *mig_file_new_fd(int fd)
{
    MigFile *f = g_new0(MigFile, 1);
    f->fd = fd;
    f->cancel_fd = -1;
    f->buf = g_malloc(MIG_FILE_BUF);
    f->wbuf = g_malloc(MIG_FILE_BUF);
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) {
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
    return f;
}

MigFile *mig_file_new_mem(const uint8_t *data, size_t len)
{
    MigFile *f = g_new0(MigFile, 1);
    f->fd = -1;
    f->cancel_fd = -1;
    f->in_mem = data;
    f->in_mem_len = len;
    return f;
}

MigFile *mig_file_new_buffer(GByteArray *out)
{
    MigFile *f = g_new0(MigFile, 1);
    f->fd = -1;
    f->cancel_fd = -1;
    f->out_mem = out;
    return f;
}

void mig_file_close(MigFile *f)
{
    if (!f) {
        return;
    }
    if (f->fd >= 0) {
        close(f->fd);
    }
    g_free(f->buf);
    g_free(f->wbuf);
    g_clear_error(&f->err);
    g_free(f);
}

void mig_file_set_cancel_fd(MigFile *f, int fd)
{
    f->cancel_fd = fd;
}

void mig_file_set_deadline(MigFile *f, int timeout_ms)
{
    f->deadline = timeout_ms < 0 ? 0 : now_ns() + (int64_t)timeout_ms * NS_PER_MS;
}

void mig_file_set_rate_limit(MigFile *f, uint64_t bytes_per_sec)
{
    f->rate = bytes_per_sec;
}

const GError *mig_file_error(MigFile *f)
{
    return f->err;
}

void mig_file_set_error(MigFile *f, GError *err)
{
    if (f->err) {
        g_error_free(err);
    } else {
        f->err = err;
    }
}

static bool set_error(MigFile *f, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static bool set_error(MigFile *f, const char *fmt, ...)
{
    if (!f->err) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        f->err = g_error_new_literal(TERN_ERROR, TERN_ERROR_GENERIC, msg);
    }
    return false;
}

uint64_t mig_file_bytes(MigFile *f)
{
    return f->bytes;
}

int mig_file_fd(MigFile *f)
{
    return f->fd;
}

/* Wait for `events` on the fd; false on cancel, error or timeout (timeout_ms >= 0).
 * Past the deadline the wait fails with an error, so a peer that sends half a message
 * and then nothing cannot hold a reader longer than its deadline. */
static bool wait_fd(MigFile *f, short events, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = f->fd, .events = events},
                          {.fd = f->cancel_fd, .events = POLLIN}};
    for (;;) {
        int wait_ms = timeout_ms;
        bool by_deadline = false;
        if (f->deadline) {
            int64_t left_ms = (f->deadline - now_ns() + NS_PER_MS - 1) / NS_PER_MS;
            if (left_ms <= 0) {
                return set_error(f, "timed out");
            }
            if (wait_ms < 0 || left_ms < wait_ms) {
                wait_ms = (int)MIN(left_ms, INT32_MAX);
                by_deadline = true;
            }
        }
        int n = poll(p, f->cancel_fd >= 0 ? 2 : 1, wait_ms);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return set_error(f, "poll: %s", g_strerror(errno));
        }
        if (f->cancel_fd >= 0 && (p[1].revents & POLLIN)) {
            return set_error(f, "cancelled");
        }
        if (n == 0) {
            return by_deadline ? set_error(f, "timed out") : false;
        }
        return true;
    }
}

/* ---- writing --------------------------------------------------------------------- */

static bool write_all(MigFile *f, const uint8_t *p, size_t len)
{
    while (len > 0 && !f->err) {
        ssize_t n = write(f->fd, p, len);
        if (n > 0) {
            p += n;
            len -= n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            wait_fd(f, POLLOUT, -1);
        } else {
            return set_error(f, "write: %s", n < 0 ? g_strerror(errno) : "nothing written");
        }
    }
    return !f->err;
}

bool mig_file_flush(MigFile *f)
{
    if (f->fd >= 0 && !f->err && f->wbuf_len > 0) {
        write_all(f, f->wbuf, f->wbuf_len);
    }
    f->wbuf_len = 0;
    return !f->err;
}

void mig_file_put_buffer(MigFile *f, const void *buf, size_t len)
{
    if (f->err) {
        return;
    }
    f->bytes += len;
    f->window_bytes += len;
    if (f->out_mem) {
        g_byte_array_append(f->out_mem, buf, len);
        return;
    }
    if (f->fd < 0) {
        set_error(f, "stream is not writable");
        return;
    }
    const uint8_t *p = buf;
    while (len > 0) {
        size_t n = MIN(len, MIG_FILE_BUF - f->wbuf_len);
        memcpy(f->wbuf + f->wbuf_len, p, n);
        f->wbuf_len += n;
        p += n;
        len -= n;
        if (f->wbuf_len == MIG_FILE_BUF && !mig_file_flush(f)) {
            return;
        }
    }
}

static void put_be(MigFile *f, uint64_t v, unsigned size)
{
    uint8_t b[8];
    st_be(b, size, v);
    mig_file_put_buffer(f, b, size);
}

void mig_file_rate_limit(MigFile *f)
{
    int64_t now = now_ns();
    if (now - f->window_start >= RATE_WINDOW_NS) {
        f->window_start = now;
        f->window_bytes = 0;
        return;
    }
    uint64_t budget = f->rate / (NS_PER_SEC / RATE_WINDOW_NS);
    if (f->rate == 0 || f->window_bytes < MAX(budget, 1) || f->err) {
        return;
    }
    /* Over budget: what is buffered goes out now, then wait for the next window. */
    mig_file_flush(f);
    int64_t left_ms = (f->window_start + RATE_WINDOW_NS - now + NS_PER_MS - 1) / NS_PER_MS;
    if (f->cancel_fd >= 0) {
        struct pollfd p = {.fd = f->cancel_fd, .events = POLLIN};
        if (poll(&p, 1, (int)left_ms) > 0) {
            set_error(f, "cancelled");
        }
    } else {
        g_usleep(left_ms * 1000);
    }
    f->window_start = now_ns();
    f->window_bytes = 0;
}

/* ---- reading --------------------------------------------------------------------- */

bool mig_file_wait_readable(MigFile *f, int timeout_ms)
{
    if (f->err) {
        return false;
    }
    if (f->fd < 0 || f->buf_pos < f->buf_len) {
        return true;
    }
    return wait_fd(f, POLLIN, timeout_ms) && !f->err;
}

static bool fill(MigFile *f)
{
    for (;;) {
        ssize_t n = read(f->fd, f->buf, MIG_FILE_BUF);
        if (n > 0) {
            f->buf_len = n;
            f->buf_pos = 0;
            return true;
        }
        if (n == 0) {
            return set_error(f, "unexpected end of stream");
        }
        if (errno == EAGAIN || errno == EINTR) {
            if (!wait_fd(f, POLLIN, -1)) {
                return false;
            }
            continue;
        }
        return set_error(f, "read: %s", g_strerror(errno));
    }
}

bool mig_file_get_buffer(MigFile *f, void *buf, size_t len)
{
    if (f->err) {
        return false;
    }
    if (f->fd < 0) {
        if (!f->in_mem || len > f->in_mem_len - f->buf_pos) {
            return set_error(f, "unexpected end of stream");
        }
        memcpy(buf, f->in_mem + f->buf_pos, len);
        f->buf_pos += len;
        f->bytes += len;
        return true;
    }
    uint8_t *p = buf;
    while (len > 0) {
        if (f->buf_pos == f->buf_len && !fill(f)) {
            return false;
        }
        size_t n = MIN(len, f->buf_len - f->buf_pos);
        memcpy(p, f->buf + f->buf_pos, n);
        f->buf_pos += n;
        f->bytes += n;
        p += n;
        len -= n;
    }
    return true;
}

/* 0 when the read fails. */
static uint64_t get_be(MigFile *f, unsigned size, bool *ok)
{
    uint8_t b[8];
    *ok = mig_file_get_buffer(f, b, size);
    return *ok ? ld_be(b, size) : 0;
}

/* mig_file_put_u8/_be16/_be32/_be64 and mig_file_get_u8/_be16/_be32/_be64. */
#define MIG_FILE_INT(name, type)                                                               \
    void mig_file_put_##name(MigFile *f, type v)                                               \
    {                                                                                          \
        put_be(f, v, sizeof(type));                                                            \
    }                                                                                          \
    bool mig_file_get_##name(MigFile *f, type *v)                                              \
    {                                                                                          \
        bool ok;                                                                               \
        *v = get_be(f, sizeof(type), &ok);                                                     \
        return ok;                                                                             \
    }
MIG_FILE_INT(u8, uint8_t)
MIG_FILE_INT(be16, uint16_t)
MIG_FILE_INT(be32, uint32_t)
MIG_FILE_INT(be64, uint64_t)
#undef MIG_FILE_INT
