/*
 * tap.c: -netdev tap, a Linux tap device from /dev/net/tun (or an fd= handed over by the
 * management stack). Frames are read on the main loop and sent to the NIC; reading stops
 * while the NIC's queue is full, so the kernel queues (and, past its limit, drops) rather
 * than us. With IFF_VNET_HDR every frame carries a virtio_net_hdr on the tap side. When
 * the NIC asks for headers (net_vnet_hdr_enable: virtio-net does), they pass through
 * both ways, 12 bytes, and the kernel's offloads follow what the guest accepts
 * (TUNSETOFFLOAD): partial checksums and GSO frames go straight between guest and kernel.
 * Otherwise we write a zero header, keep the offloads off (so the kernel never sends GSO
 * frames or partial checksums) and strip the header on the way in.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "error.h"
#include "inherited-fds.h"
#include "main-loop.h"
#include "net/net.h"

#define TAP_READ_BUDGET 64 /* frames per wake-up, so other sources get their turn */
#define VNET_HDR_MAX 12    /* virtio_net_hdr_mrg_rxbuf */

typedef struct {
    NetClientState *nc;
    int fd;
    char ifname[IFNAMSIZ];
    size_t vnet_hdr_len; /* 0 without IFF_VNET_HDR, else 10 or 12 */
    GSource *read_src, *write_src;
    bool read_error_reported;
    uint8_t buf[VNET_HDR_MAX + NET_FRAME_MAX];
} TapState;

static gboolean tap_readable(gint fd, GIOCondition cond, gpointer opaque);
static gboolean tap_writable(gint fd, GIOCondition cond, gpointer opaque);

static void tap_read_poll(TapState *s, bool on)
{
    if (on && !s->read_src) {
        s->read_src = net_fd_watch(s->fd, G_IO_IN, tap_readable, s);
    } else if (!on) {
        net_fd_unwatch(&s->read_src);
    }
}

static gboolean tap_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    TapState *s = opaque;
    for (int i = 0; i < TAP_READ_BUDGET; i++) {
        if (net_peer_full(s->nc)) {
            tap_read_poll(s, false);
            return G_SOURCE_REMOVE;
        }
        ssize_t n = read(s->fd, s->buf, sizeof(s->buf));
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR && !s->read_error_reported) {
                tern_error_report("-netdev tap,id=%s: read: %s", s->nc->name,
                                  g_strerror(errno));
                s->read_error_reported = true;
            }
            break;
        }
        if ((size_t)n <= s->vnet_hdr_len) {
            continue;
        }
        if (s->nc->vnet_hdr) {
            net_send_buf(s->nc, s->buf, n); /* header included: the NIC reads it */
        } else {
            net_send_buf(s->nc, s->buf + s->vnet_hdr_len, n - s->vnet_hdr_len);
        }
    }
    return G_SOURCE_CONTINUE;
}

static void tap_send_ready(NetClientState *nc)
{
    TapState *s = nc->opaque;
    if (!net_peer_full(s->nc)) {
        tap_read_poll(s, true);
    }
}

static gboolean tap_writable(gint fd, GIOCondition cond, gpointer opaque)
{
    TapState *s = opaque;
    net_fd_unwatch(&s->write_src);
    net_client_flush(s->nc);
    return G_SOURCE_REMOVE;
}

static ssize_t tap_receive(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    TapState *s = nc->opaque;
    static const uint8_t zero_hdr[VNET_HDR_MAX];
    struct iovec v[iovcnt + 1];
    size_t len = 0;
    /* With headers passed through, the frame brings its own. */
    int skip = nc->vnet_hdr ? 1 : 0;
    v[0] = (struct iovec){.iov_base = (void *)zero_hdr, .iov_len = s->vnet_hdr_len};
    for (int i = 0; i < iovcnt; i++) {
        v[i + 1] = iov[i];
        len += iov[i].iov_len;
    }
    ssize_t n;
    do {
        n = writev(s->fd, v + skip, iovcnt + 1 - skip);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) {
        if (!s->write_src) {
            s->write_src = net_fd_watch(s->fd, G_IO_OUT, tap_writable, s);
        }
        return 0; /* queued; tap_writable flushes */
    }
    if (n < 0) {
        nc->dropped++;
        return -1;
    }
    return len;
}

/* The NIC passes virtio_net_hdr through: the kernel's header must be the same 12 bytes. */
static bool tap_enable_vnet_hdr(NetClientState *nc)
{
    TapState *s = nc->opaque;
    int sz = NET_VNET_HDR_LEN;
    if (!s->vnet_hdr_len || ioctl(s->fd, TUNSETVNETHDRSZ, &sz) < 0) {
        return false;
    }
    s->vnet_hdr_len = sz;
    return true;
}

static void tap_set_offloads(NetClientState *nc, const NetOffloads *o)
{
    TapState *s = nc->opaque;
    unsigned long f = 0;
    if (o->csum) {
        f |= TUN_F_CSUM;
        f |= (o->tso4 ? TUN_F_TSO4 : 0) | (o->tso6 ? TUN_F_TSO6 : 0);
        f |= (o->ecn && (o->tso4 || o->tso6)) ? TUN_F_TSO_ECN : 0;
    }
    if (ioctl(s->fd, TUNSETOFFLOAD, f) < 0 && f) {
        /* The kernel then segments and checksums for us: slower, never wrong. */
        g_warning("-netdev tap,id=%s: TUNSETOFFLOAD 0x%lx: %s", nc->name, f, g_strerror(errno));
    }
}

static void tap_cleanup(NetClientState *nc)
{
    TapState *s = nc->opaque;
    net_fd_unwatch(&s->read_src);
    net_fd_unwatch(&s->write_src);
    if (s->fd >= 0) {
        close(s->fd);
    }
    g_free(s);
}

static const NetClientInfo tap_info = {
    .kind = NET_CLIENT_BACKEND,
    .type = "tap",
    .receive = tap_receive,
    .cleanup = tap_cleanup,
    .send_ready = tap_send_ready,
    .enable_vnet_hdr = tap_enable_vnet_hdr,
    .set_offloads = tap_set_offloads,
};

/* Until a guest accepts offloads (tap_set_offloads) the kernel must hand us whole frames
 * with complete checksums, whatever a previous user of the tap (QEMU) enabled. */
static bool tap_disable_offloads(const TernOpts *o, int fd, GError **errp)
{
    if (ioctl(fd, TUNSETOFFLOAD, 0) < 0 && errno != EINVAL) {
        return netdev_error(errp, o, "could not turn the tap's offloads off: %s",
                            g_strerror(errno));
    }
    return true;
}

/* A persistent tap keeps the vnet header size its last user set (QEMU: 12 bytes): set
 * ours (10) explicitly, and the offloads off. */
static bool tap_set_vnet_and_offloads(const TernOpts *o, int fd, short flags, TapState *s,
                                      GError **errp)
{
    s->vnet_hdr_len = 0;
    if (flags & IFF_VNET_HDR) {
        int sz = 10;
        if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
            return netdev_error(errp, o, "could not set the tap's vnet header size: %s",
                                g_strerror(errno));
        }
        s->vnet_hdr_len = sz;
    }
    return tap_disable_offloads(o, fd, errp);
}

/* Open /dev/net/tun as `ifname` (empty: the kernel names it). vnet: -1 auto, 0 off, 1 on. */
static int tap_open(const TernOpts *o, const char *ifname, int vnet, TapState *s, GError **errp)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        netdev_error(errp, o, "could not open /dev/net/tun: %s", g_strerror(errno));
        return -1;
    }
    unsigned int features = 0;
    if (ioctl(fd, TUNGETFEATURES, &features) < 0) {
        features = 0;
    }
    struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
    if (vnet != 0 && (features & IFF_VNET_HDR)) {
        ifr.ifr_flags |= IFF_VNET_HDR;
    } else if (vnet == 1) {
        close(fd);
        netdev_error(errp, o, "vnet_hdr=on requested, but the kernel has no IFF_VNET_HDR");
        return -1;
    }
    g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        netdev_error(
            errp, o, "could not configure /dev/net/tun (%s): %s%s", ifname, g_strerror(e),
            e == EPERM ? " (tern needs CAP_NET_ADMIN, or a tap owned by its user)" : "");
        return -1;
    }
    g_strlcpy(s->ifname, ifr.ifr_name, IFNAMSIZ);
    if (!tap_set_vnet_and_offloads(o, fd, ifr.ifr_flags, s, errp)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* fd=N: a tap the management stack opened; its flags tell whether it has vnet headers. */
static bool tap_adopt_open_fd(const TernOpts *o, const char *fdstr, int n, TapState *s,
                              GError **errp)
{
    struct ifreq ifr = {0};
    if (ioctl((int)n, TUNGETIFF, &ifr) < 0) {
        return netdev_error(errp, o, "fd=%s is not a tap device (TUNGETIFF: %s)", fdstr,
                            g_strerror(errno));
    }
    if (!(ifr.ifr_flags & IFF_TAP)) {
        return netdev_error(errp, o, "fd=%s is a tun device, not a tap", fdstr);
    }
    s->fd = (int)n;
    g_strlcpy(s->ifname, ifr.ifr_name, IFNAMSIZ);
    s->vnet_hdr_len = 0;
    if (ifr.ifr_flags & IFF_VNET_HDR) {
        int sz = 10;
        if (ioctl(s->fd, TUNGETVNETHDRSZ, &sz) < 0 || (sz != 10 && sz != 12)) {
            return netdev_error(errp, o, "fd=%s: unsupported vnet header size %d", fdstr, sz);
        }
        s->vnet_hdr_len = sz;
    }
    return tap_disable_offloads(o, s->fd, errp);
}

static bool tap_adopt_fd(const TernOpts *o, const char *fdstr, TapState *s, GError **errp)
{
    bool owned;
    int fd = netdev_fd_get(o, fdstr, &owned, errp);
    if (fd < 0) {
        return false;
    }
    if (!tap_adopt_open_fd(o, fdstr, fd, s, errp)) {
        netdev_fd_put_back(fd, owned);
        return false;
    }
    return true;
}

static bool tap_check_script(const TernOpts *o, const char *key, GError **errp)
{
    const char *v = opts_get(o, key);
    if (v && *v && strcmp(v, "no") != 0) {
        return netdev_error(errp, o, "%s= is not supported, use %s=no", key, key);
    }
    return true;
}

static bool tap_create(const TernOpts *o, GError **errp)
{
    static const char *const keys[] = {"ifname", "script",   "downscript", "fd",
                                       "vhost",  "vnet_hdr", NULL};
    bool vhost = false, vnet_on = true;
    if (!opts_check_keys(o, keys, errp) || !tap_check_script(o, "script", errp) ||
        !tap_check_script(o, "downscript", errp) ||
        !opts_get_bool(o, "vhost", false, &vhost, errp) ||
        !opts_get_bool(o, "vnet_hdr", true, &vnet_on, errp)) {
        return false;
    }
    if (vhost) {
        return netdev_error(errp, o,
                            "vhost=on is not supported (tern has no vhost-net), "
                            "use vhost=off");
    }
    const char *ifname = opts_get(o, "ifname");
    if (ifname && strlen(ifname) >= IFNAMSIZ) {
        return netdev_error(errp, o, "ifname '%s' is longer than %d characters", ifname,
                            IFNAMSIZ - 1);
    }
    TapState *s = g_new0(TapState, 1);
    s->fd = -1;
    const char *fdstr = opts_get(o, "fd");
    if (fdstr) {
        if (ifname || opts_get(o, "script") || opts_get(o, "downscript") ||
            opts_get(o, "vnet_hdr")) {
            g_free(s);
            return netdev_error(errp, o,
                                "ifname=, script=, downscript= and vnet_hdr= are "
                                "invalid with fd=");
        }
        if (!tap_adopt_fd(o, fdstr, s, errp)) {
            g_free(s);
            return false;
        }
    } else {
        int vnet = opts_get(o, "vnet_hdr") ? vnet_on : -1;
        s->fd = tap_open(o, ifname ? ifname : "", vnet, s, errp);
        if (s->fd < 0) {
            g_free(s);
            return false;
        }
    }
    g_unix_set_fd_nonblocking(s->fd, TRUE, NULL);
    s->nc = net_client_new(&tap_info, o->id, s);
    tap_read_poll(s, true);
    return true;
}

static const NetBackendClass tap_class = {
    .type = "tap",
    .create = tap_create,
};

NET_BACKEND_REGISTER(tap_class)
