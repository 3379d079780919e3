/*
 * socket.c: -netdev socket, frames over a socket to another VMM or a test. On a stream
 * socket every frame is preceded by its length as a 4-byte big-endian number (QEMU's
 * framing, so tern and QEMU interoperate); on a datagram socket (fd= only) a datagram is
 * a frame. listen= serves one connection at a time; connect= connects at start-up.
 *
 * The peer is untrusted: a length of more than NET_FRAME_MAX drops the connection with a
 * message. Incoming bytes are kept until their frame is complete; complete frames go to
 * the NIC only while its queue has room, then reading pauses until it drains.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bswap.h"
#include "error.h"
#include "main-loop.h"
#include "inherited-fds.h"
#include "net/net.h"
#include "sockaddr.h"

#define SOCKET_READ_CHUNK 65536
#define SOCKET_OUT_MAX (256 * 1024) /* bytes waiting for the socket before we queue */

typedef struct {
    NetClientState *nc;
    int fd;        /* the connection, -1 when none */
    int listen_fd; /* listen=: the listening socket, else -1 */
    bool stream;
    GSource *read_src, *write_src, *listen_src;
    GByteArray *in;  /* stream: received bytes not yet delivered */
    size_t in_off;   /* start of the first undelivered byte in `in` */
    GByteArray *out; /* stream: framed bytes not yet written */
    uint8_t *dgram;  /* datagram receive buffer */
} SocketState;

static gboolean socket_readable(gint fd, GIOCondition cond, gpointer opaque);
static gboolean socket_writable(gint fd, GIOCondition cond, gpointer opaque);
static gboolean socket_accept(gint fd, GIOCondition cond, gpointer opaque);

static void socket_read_poll(SocketState *s, bool on)
{
    if (on && !s->read_src && s->fd >= 0) {
        s->read_src = net_fd_watch(s->fd, G_IO_IN, socket_readable, s);
    } else if (!on) {
        net_fd_unwatch(&s->read_src);
    }
}

static void socket_disconnect(SocketState *s)
{
    net_fd_unwatch(&s->read_src);
    net_fd_unwatch(&s->write_src);
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    g_byte_array_set_size(s->in, 0);
    s->in_off = 0;
    g_byte_array_set_size(s->out, 0);
    net_client_purge(s->nc);
    if (s->listen_fd >= 0 && !s->listen_src) {
        s->listen_src = net_fd_watch(s->listen_fd, G_IO_IN, socket_accept, s);
    }
}

static void socket_attach(SocketState *s, int fd)
{
    s->fd = fd;
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    socket_read_poll(s, true);
}

/* Deliver every complete frame in `in` while the NIC has room. False: the connection is
 * bad and was dropped. */
static bool socket_deliver(SocketState *s)
{
    while (s->in->len - s->in_off >= 4) {
        const uint8_t *p = s->in->data + s->in_off;
        uint32_t len = ld_be32(p);
        if (len > NET_FRAME_MAX) {
            tern_error_report("-netdev socket,id=%s: the peer sent a frame of %u bytes (at "
                              "most %d): dropping the connection",
                              s->nc->name, len, NET_FRAME_MAX);
            socket_disconnect(s);
            return false;
        }
        if (s->in->len - s->in_off < 4 + (size_t)len) {
            break;
        }
        if (net_peer_full(s->nc)) {
            break;
        }
        if (len) {
            net_send_buf(s->nc, p + 4, len);
        }
        s->in_off += 4 + len;
    }
    /* Keep only the undelivered tail. */
    if (s->in_off) {
        g_byte_array_remove_range(s->in, 0, s->in_off);
        s->in_off = 0;
    }
    return true;
}

static gboolean socket_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    SocketState *s = opaque;
    if (!s->stream) {
        for (int i = 0; i < 64 && !net_peer_full(s->nc); i++) {
            ssize_t n = recv(s->fd, s->dgram, NET_FRAME_MAX, MSG_DONTWAIT);
            if (n < 0) {
                return G_SOURCE_CONTINUE;
            }
            if (n > 0) {
                net_send_buf(s->nc, s->dgram, n);
            }
        }
        if (net_peer_full(s->nc)) {
            socket_read_poll(s, false);
            return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
    }
    /* Never hold more than one chunk beyond a frame: read only when what waits is not
     * stuck behind a full NIC queue. */
    guint old = s->in->len;
    g_byte_array_set_size(s->in, old + SOCKET_READ_CHUNK);
    ssize_t n = recv(s->fd, s->in->data + old, SOCKET_READ_CHUNK, MSG_DONTWAIT);
    g_byte_array_set_size(s->in, old + MAX(n, 0));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        socket_disconnect(s);
        return G_SOURCE_REMOVE;
    }
    if (!socket_deliver(s)) {
        return G_SOURCE_REMOVE;
    }
    if (net_peer_full(s->nc)) {
        socket_read_poll(s, false);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void socket_send_ready(NetClientState *nc)
{
    SocketState *s = nc->opaque;
    if (s->fd < 0 || (s->stream && !socket_deliver(s))) {
        return;
    }
    if (!net_peer_full(s->nc)) {
        socket_read_poll(s, true);
    }
}

/* Write what `out` holds; false when the connection broke. */
static bool socket_flush_out(SocketState *s)
{
    while (s->out->len) {
        ssize_t n = send(s->fd, s->out->data, s->out->len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            break;
        }
        if (n <= 0) {
            socket_disconnect(s);
            return false;
        }
        g_byte_array_remove_range(s->out, 0, n);
    }
    if (s->out->len && !s->write_src) {
        s->write_src = net_fd_watch(s->fd, G_IO_OUT, socket_writable, s);
    } else if (!s->out->len) {
        net_fd_unwatch(&s->write_src);
    }
    return true;
}

static gboolean socket_writable(gint fd, GIOCondition cond, gpointer opaque)
{
    SocketState *s = opaque;
    if (s->stream) {
        if (!socket_flush_out(s)) {
            return G_SOURCE_REMOVE;
        }
    } else {
        net_fd_unwatch(&s->write_src);
    }
    net_client_flush(s->nc);
    return s->write_src ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static ssize_t socket_receive(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    SocketState *s = nc->opaque;
    size_t len = iov_size(iov, iovcnt);
    if (s->fd < 0) {
        nc->dropped++;
        return -1; /* nobody connected: the frame has nowhere to go */
    }
    if (!s->stream) {
        struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt};
        ssize_t n = sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) {
            if (!s->write_src) {
                s->write_src = net_fd_watch(s->fd, G_IO_OUT, socket_writable, s);
            }
            return 0;
        }
        if (n < 0) {
            nc->dropped++;
            return -1;
        }
        return len;
    }
    if (s->out->len >= SOCKET_OUT_MAX) {
        return 0; /* queued at our client; socket_writable flushes */
    }
    uint8_t hdr[4];
    st_be32(hdr, len);
    g_byte_array_append(s->out, hdr, 4);
    for (int i = 0; i < iovcnt; i++) {
        g_byte_array_append(s->out, iov[i].iov_base, iov[i].iov_len);
    }
    socket_flush_out(s);
    return len;
}

static gboolean socket_accept(gint fd, GIOCondition cond, gpointer opaque)
{
    SocketState *s = opaque;
    int c = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) {
        return G_SOURCE_CONTINUE;
    }
    /* One connection at a time, as QEMU: stop listening until it ends. */
    net_fd_unwatch(&s->listen_src);
    socket_attach(s, c);
    return G_SOURCE_REMOVE;
}

static void socket_cleanup(NetClientState *nc)
{
    SocketState *s = nc->opaque;
    net_fd_unwatch(&s->listen_src);
    net_fd_unwatch(&s->read_src);
    net_fd_unwatch(&s->write_src);
    if (s->fd >= 0) {
        close(s->fd);
    }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    g_byte_array_unref(s->in);
    g_byte_array_unref(s->out);
    g_free(s->dgram);
    g_free(s);
}

static const NetClientInfo socket_info = {
    .kind = NET_CLIENT_BACKEND,
    .type = "socket",
    .receive = socket_receive,
    .cleanup = socket_cleanup,
    .send_ready = socket_send_ready,
};

static int socket_open(const TernOpts *o, const char *key, const char *spec, bool listening,
                       GError **errp)
{
    SockAddr addr;
    GError *err = NULL;
    int fd = -1;
    if (sockaddr_parse_inet(spec, &addr, &err)) {
        fd = listening ? sockaddr_listen(&addr, 1, &err) : sockaddr_connect(&addr, &err);
    }
    if (fd < 0) {
        netdev_error(errp, o, "%s=%s: %s", key, spec, err->message);
        g_error_free(err);
    }
    sockaddr_clear(&addr);
    return fd;
}

static bool socket_create(const TernOpts *o, GError **errp)
{
    static const char *const keys[] = {"fd",  "listen",    "connect", "mcast",
                                       "udp", "localaddr", NULL};
    if (!opts_check_keys(o, keys, errp)) {
        return false;
    }
    if (opts_get(o, "mcast") || opts_get(o, "udp") || opts_get(o, "localaddr")) {
        return netdev_error(errp, o,
                            "mcast=, udp= and localaddr= are not supported; use "
                            "fd=, listen= or connect=");
    }
    const char *fdstr = opts_get(o, "fd"), *lis = opts_get(o, "listen");
    const char *con = opts_get(o, "connect");
    if (!!fdstr + !!lis + !!con != 1) {
        return netdev_error(errp, o, "exactly one of fd=, listen= or connect= is required");
    }
    SocketState *s = g_new0(SocketState, 1);
    s->fd = s->listen_fd = -1;
    s->stream = true;
    s->in = g_byte_array_new();
    s->out = g_byte_array_new();
    int fd = -1;
    if (fdstr) {
        bool owned;
        int n = netdev_fd_get(o, fdstr, &owned, errp), type = 0;
        socklen_t tl = sizeof(type);
        if (n < 0) {
            /* errp set */
        } else if (getsockopt(n, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
                   (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)) {
            netdev_error(errp, o, "fd=%s is not a stream or datagram socket", fdstr);
            netdev_fd_put_back(n, owned);
        } else {
            fd = n;
            s->stream = type == SOCK_STREAM;
        }
    } else {
        fd = socket_open(o, lis ? "listen" : "connect", lis ? lis : con, lis != NULL, errp);
    }
    if (fd < 0) {
        socket_cleanup(&(NetClientState){.opaque = s});
        return false;
    }
    if (!s->stream) {
        s->dgram = g_malloc(NET_FRAME_MAX);
    }
    s->nc = net_client_new(&socket_info, o->id, s);
    if (lis) {
        s->listen_fd = fd;
        g_unix_set_fd_nonblocking(fd, TRUE, NULL);
        s->listen_src = net_fd_watch(fd, G_IO_IN, socket_accept, s);
    } else {
        socket_attach(s, fd);
    }
    return true;
}

static const NetBackendClass socket_class = {
    .type = "socket",
    .create = socket_create,
};

NET_BACKEND_REGISTER(socket_class)
