/* mig-proxy.c: a fault-injecting relay for tern's migration protocol (see mig-proxy.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "migration/savevm.h"
#include "mig-proxy.h"

/* A record longer than this is not tern's: what follows is relayed unparsed. */
#define MSG_MAX ((gssize)128 << 20)

/* Where the parser of one direction is: which message comes next. */
typedef enum { NEXT_HEADER, NEXT_RECORD, NEXT_CONFIRM, NEXT_VERDICT, NEXT_RAW } Next;

/* One direction of the relay: bytes read and not passed on yet, and the parser. */
typedef struct {
    int from, to;
    GByteArray *buf;
    Next next;
    bool confirm;  /* source -> destination: the header announced a confirmation */
    bool dropping; /* MIG_FAULT_DROP fired here: nothing more goes through */
} Dir;

struct MigProxy {
    char *path;
    char *dst_path;
    int listen_fd, stop_fd;
    int src, dst; /* the two connections, owned by the thread until it ends */
    MigFault fault;
    GThread *thread;
    GMutex lock;
    GCond cond;
    unsigned seen[MIG_MSG__MAX];
    bool fired;
};

static const char *const msg_names[MIG_MSG__MAX] = {
    [MIG_MSG_HEADER] = "header",   [MIG_MSG_CONFIG] = "config", [MIG_MSG_RAM] = "ram",
    [MIG_MSG_DEVICE] = "device",   [MIG_MSG_END] = "end",       [MIG_MSG_VERDICT] = "verdict",
    [MIG_MSG_CONFIRM] = "confirm",
};

static const char *const fault_names[MIG_FAULT__MAX] = {
    [MIG_FAULT_NONE] = "none",           [MIG_FAULT_CUT_BEFORE] = "cut-before",
    [MIG_FAULT_CUT_AFTER] = "cut-after", [MIG_FAULT_DROP] = "drop",
    [MIG_FAULT_STALL] = "stall",
};

const char *mig_proxy_msg_name(MigProxyMsg m)
{
    return m < MIG_MSG__MAX ? msg_names[m] : "?";
}

const char *mig_fault_name(MigFaultKind k)
{
    return k < MIG_FAULT__MAX ? fault_names[k] : "?";
}

static uint32_t be(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/*
 * The length of the message at the head of d->buf and its kind: 0 when more bytes are
 * needed to tell, -1 when what follows is not the protocol (it is relayed as it is).
 */
static gssize next_message(const Dir *d, MigProxyMsg *kind)
{
    const uint8_t *p = d->buf->data;
    gsize n = d->buf->len;
    switch (d->next) {
    case NEXT_HEADER:
        *kind = MIG_MSG_HEADER;
        return n >= 12 ? 12 : 0;
    case NEXT_VERDICT: /* u32 magic, u8 status, u16 len, message */
        *kind = MIG_MSG_VERDICT;
        return n >= 7 ? 7 + (gssize)be(p + 5, 2) : 0;
    case NEXT_CONFIRM: /* u32 magic, u8 run/keep */
        *kind = MIG_MSG_CONFIRM;
        return n >= 5 ? 5 : 0;
    case NEXT_RAW:
        return -1;
    case NEXT_RECORD:
        break;
    }
    if (n < 1) {
        return 0;
    }
    gssize len;
    switch (p[0]) {
    case MIG_REC_END:
        *kind = MIG_MSG_END;
        return 1;
    case MIG_REC_CONFIG:
        *kind = MIG_MSG_CONFIG;
        len = n >= 5 ? 5 + 16 * (gssize)be(p + 1, 4) : 0;
        break;
    case MIG_REC_RAM_PAGES:
    case MIG_REC_RAM_ZERO:
        *kind = MIG_MSG_RAM;
        len = n < 13 ? 0 : p[0] == MIG_REC_RAM_ZERO ? 13 : 13 + 4096 * (gssize)be(p + 9, 4);
        break;
    case MIG_REC_DEVICE: { /* u8 len, idstr, u32 instance, u32 version, u32 size, payload */
        *kind = MIG_MSG_DEVICE;
        gsize head = n >= 2 ? 2 + (gsize)p[1] + 12 : SIZE_MAX;
        len = n >= head ? (gssize)head + (gssize)be(p + head - 4, 4) : 0;
        break;
    }
    default:
        return -1;
    }
    return len > MSG_MAX ? -1 : len;
}

/* What the parser expects after a message of this kind. */
static void advance(Dir *d, MigProxyMsg kind)
{
    switch (kind) {
    case MIG_MSG_HEADER:
        d->confirm = be(d->buf->data + 8, 4) & MIG_STREAM_F_CONFIRM;
        d->next = NEXT_RECORD;
        break;
    case MIG_MSG_END:
        d->next = d->confirm ? NEXT_CONFIRM : NEXT_RAW;
        break;
    case MIG_MSG_VERDICT:
    case MIG_MSG_CONFIRM:
        d->next = NEXT_RAW;
        break;
    default:
        break;
    }
}

/* Wait for `events` on fd (-1: just the time), or for the stop request; false when
 * stopped. */
static bool wait_for(MigProxy *p, int fd, short events, int timeout_ms)
{
    struct pollfd f[2] = {{.fd = p->stop_fd, .events = POLLIN}, {.fd = fd, .events = events}};
    for (;;) {
        int n = poll(f, 2, timeout_ms);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return n >= 0 && !(f[0].revents & POLLIN);
    }
}

static bool write_all(MigProxy *p, int fd, const uint8_t *data, gsize len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(p, fd, POLLOUT, -1)) {
                return false;
            }
        } else {
            return false;
        }
    }
    return true;
}

/* Pass on (or fault) every whole message d holds; false when the relay is over. */
static bool relay(MigProxy *p, Dir *d)
{
    for (;;) {
        MigProxyMsg kind = MIG_MSG__MAX;
        gssize len = next_message(d, &kind);
        if (len < 0) {
            kind = MIG_MSG__MAX;
            len = d->buf->len;
        }
        if (len == 0 || (gsize)len > d->buf->len) {
            return true;
        }
        MigFaultKind act = MIG_FAULT_NONE;
        if (kind < MIG_MSG__MAX) {
            advance(d, kind);
            g_mutex_lock(&p->lock);
            p->seen[kind]++;
            if (kind == p->fault.msg && !p->fired) {
                act = p->fault.kind;
                p->fired = act != MIG_FAULT_NONE;
            }
            g_cond_broadcast(&p->cond);
            g_mutex_unlock(&p->lock);
        }
        if (act == MIG_FAULT_CUT_BEFORE) {
            return false;
        }
        if (act == MIG_FAULT_STALL && !wait_for(p, -1, 0, p->fault.stall_ms)) {
            return false;
        }
        d->dropping |= act == MIG_FAULT_DROP;
        if (!d->dropping && !write_all(p, d->to, d->buf->data, len)) {
            return false;
        }
        g_byte_array_remove_range(d->buf, 0, len);
        if (act == MIG_FAULT_CUT_AFTER) {
            return false;
        }
    }
}

/* Read what d->from has; false when the relay is over. At the end of either side what
 * is held is passed on (unless dropped), and then both are closed. */
static bool pump(MigProxy *p, Dir *d)
{
    uint8_t chunk[65536];
    ssize_t n = recv(d->from, chunk, sizeof(chunk), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return true;
    }
    if (n <= 0) {
        if (!d->dropping && d->buf->len) {
            write_all(p, d->to, d->buf->data, d->buf->len);
        }
        return false;
    }
    g_byte_array_append(d->buf, chunk, n);
    return relay(p, d);
}

static int connect_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static gpointer proxy_thread(gpointer opaque)
{
    MigProxy *p = opaque;
    if (!wait_for(p, p->listen_fd, POLLIN, -1)) {
        return NULL;
    }
    p->src = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    p->dst = p->src >= 0 ? connect_unix(p->dst_path) : -1;
    if (p->src < 0 || p->dst < 0) {
        return NULL;
    }
    fcntl(p->dst, F_SETFL, fcntl(p->dst, F_GETFL) | O_NONBLOCK);
    Dir up = {.from = p->src, .to = p->dst, .buf = g_byte_array_new(), .next = NEXT_HEADER};
    Dir down = {.from = p->dst, .to = p->src, .buf = g_byte_array_new(), .next = NEXT_VERDICT};
    for (bool go = true; go;) {
        struct pollfd f[3] = {{.fd = p->src, .events = POLLIN},
                              {.fd = p->dst, .events = POLLIN},
                              {.fd = p->stop_fd, .events = POLLIN}};
        if (poll(f, 3, -1) < 0) {
            go = errno == EINTR;
            continue;
        }
        if (f[2].revents & POLLIN) {
            break;
        }
        if (f[0].revents) {
            go = pump(p, &up);
        }
        if (go && f[1].revents) {
            go = pump(p, &down);
        }
    }
    g_byte_array_unref(up.buf);
    g_byte_array_unref(down.buf);
    /* A cut, or one end closed: the other end sees its connection end too. */
    close(p->src);
    close(p->dst);
    p->src = p->dst = -1;
    return NULL;
}

MigProxy *mig_proxy_new(const char *listen_path, const char *dst_path, MigFault fault)
{
    MigProxy *p = g_new0(MigProxy, 1);
    p->path = g_strdup(listen_path);
    p->dst_path = g_strdup(dst_path);
    p->fault = fault;
    p->src = p->dst = -1;
    g_mutex_init(&p->lock);
    g_cond_init(&p->cond);
    p->stop_fd = eventfd(0, EFD_CLOEXEC);
    g_assert_cmpint(p->stop_fd, >=, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_assert_cmpuint(strlen(listen_path), <, sizeof(sa.sun_path));
    strcpy(sa.sun_path, listen_path);
    p->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(p->listen_fd, >=, 0);
    unlink(listen_path);
    g_assert_cmpint(bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(p->listen_fd, 1), ==, 0);
    p->thread = g_thread_new("mig-proxy", proxy_thread, p);
    return p;
}

void mig_proxy_free(MigProxy *p)
{
    if (!p) {
        return;
    }
    uint64_t one = 1;
    g_assert_cmpint(write(p->stop_fd, &one, sizeof(one)), ==, sizeof(one));
    g_thread_join(p->thread);
    if (p->src >= 0) {
        close(p->src);
    }
    if (p->dst >= 0) {
        close(p->dst);
    }
    close(p->listen_fd);
    close(p->stop_fd);
    unlink(p->path);
    g_mutex_clear(&p->lock);
    g_cond_clear(&p->cond);
    g_free(p->path);
    g_free(p->dst_path);
    g_free(p);
}

unsigned mig_proxy_seen(MigProxy *p, MigProxyMsg m)
{
    g_mutex_lock(&p->lock);
    unsigned n = p->seen[m];
    g_mutex_unlock(&p->lock);
    return n;
}

bool mig_proxy_wait_seen(MigProxy *p, MigProxyMsg m, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000LL;
    g_mutex_lock(&p->lock);
    while (!p->seen[m] && g_cond_wait_until(&p->cond, &p->lock, deadline)) {
    }
    bool seen = p->seen[m] > 0;
    g_mutex_unlock(&p->lock);
    return seen;
}

bool mig_proxy_fired(MigProxy *p)
{
    g_mutex_lock(&p->lock);
    bool fired = p->fired;
    g_mutex_unlock(&p->lock);
    return fired;
}
