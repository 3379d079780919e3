/*
 * qvirtio-net.c: the test-side virtio-net driver and netdev peer (see qvirtio-net.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bswap.h"
#include "qvirtio-net.h"

/* Frames the tests exchange stay far below this. */
#define NET_TEST_FRAME_MAX 2048

QTestState *qvnet_start(const char *props, const char *extra, int *backend_fd)
{
    /* A stream socketpair: tern's end is inherited as `-netdev socket,fd=N`, with
     * QEMU's 4-byte length framing; the test keeps the other end. */
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    g_autofree char *args = g_strdup_printf("-netdev socket,id=n0,fd=%d "
                                            "-device virtio-net-pci,netdev=n0%s%s %s",
                                            sv[1], props && *props ? "," : "",
                                            props ? props : "", extra ? extra : "");
    QTestState *qts = qtest_init_with_fds(args, &sv[1], 1);
    close(sv[1]);
    *backend_fd = sv[0];
    return qts;
}

QVirtioNet *qvnet_init(QTestState *qts, uint64_t features, bool driver_ok)
{
    QVirtioNet *n = g_new0(QVirtioNet, 1);
    n->qts = qts;
    n->dev = qvirtio_pci_find(qts, QVNET_ID);
    g_assert_nonnull(n->dev);
    qvirtio_enable_msix(n->dev);
    g_assert_cmphex(qvirtio_device_features(n->dev) & features, ==, features);
    g_assert_true(qvirtio_negotiate(n->dev, features));
    n->features = features;
    n->rx = qvirtqueue_setup(n->dev, 0, 0);
    n->tx = qvirtqueue_setup(n->dev, 1, 0);
    if (features & QVNET_BIT(QVNET_F_CTRL_VQ)) {
        n->ctrl = qvirtqueue_setup(n->dev, 2, 0);
    }
    n->rx_addr = g_new0(uint64_t, n->rx->size);
    n->rx_len = g_new0(uint32_t, n->rx->size);
    if (driver_ok) {
        qvirtio_driver_ok(n->dev);
    }
    return n;
}

static QVirtQueue *queue_clone(const QVirtQueue *vq, QVirtioDevice *dev)
{
    if (!vq) {
        return NULL;
    }
    QVirtQueue *c = g_memdup2(vq, sizeof(*vq));
    c->dev = dev;
    return c;
}

QVirtioNet *qvnet_clone(const QVirtioNet *n, QTestState *qts)
{
    QVirtioNet *c = g_memdup2(n, sizeof(*n));
    c->qts = qts;
    c->dev = qvirtio_clone(n->dev, qts);
    c->rx = queue_clone(n->rx, c->dev);
    c->tx = queue_clone(n->tx, c->dev);
    c->ctrl = queue_clone(n->ctrl, c->dev);
    c->rx_addr = g_memdup2(n->rx_addr, sizeof(uint64_t) * n->rx->size);
    c->rx_len = g_memdup2(n->rx_len, sizeof(uint32_t) * n->rx->size);
    qtest_alloc_continue(qts, n->qts);
    return c;
}

void qvnet_free(QVirtioNet *n)
{
    if (!n) {
        return;
    }
    g_free(n->rx_addr);
    g_free(n->rx_len);
    g_free(n->rx);
    g_free(n->tx);
    g_free(n->ctrl);
    qvirtio_free(n->dev);
    g_free(n);
}

uint16_t qvnet_status(QVirtioNet *n)
{
    return qvirtio_config_readw(n->dev, QVNET_CONFIG_STATUS);
}

void qvnet_config_mac(QVirtioNet *n, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        mac[i] = qvirtio_config_readb(n->dev, i);
    }
}

void qvnet_rx_post(QVirtioNet *n, uint32_t size)
{
    uint64_t addr = qtest_alloc(n->qts, size);
    uint16_t head = qvirtqueue_add(n->rx, addr, size, true, true);
    n->rx_addr[head] = addr;
    n->rx_len[head] = size;
    qvirtqueue_submit(n->rx, head);
}

static size_t rx_copy_out(QVirtioNet *n, uint32_t id, uint32_t len, uint8_t *frame, size_t cap,
                          uint16_t *num_buffers, uint8_t *hdr_out)
{
    g_assert_cmpuint(id, <, n->rx->size);
    g_assert_cmpuint(len, >=, QVNET_HDR_LEN);
    g_assert_cmpuint(len, <=, n->rx_len[id]);
    uint8_t hdr[QVNET_HDR_LEN];
    qtest_memread(n->qts, n->rx_addr[id], hdr, sizeof(hdr));
    if (hdr_out) {
        memcpy(hdr_out, hdr, sizeof(hdr));
    }
    if (num_buffers) {
        *num_buffers = hdr[10] | hdr[11] << 8;
    }
    size_t flen = len - QVNET_HDR_LEN;
    g_assert_cmpuint(flen, <=, cap);
    qtest_memread(n->qts, n->rx_addr[id] + QVNET_HDR_LEN, frame, flen);
    return flen;
}

bool qvnet_rx_poll(QVirtioNet *n, uint8_t *frame, size_t cap, size_t *len)
{
    uint32_t id, l;
    if (!qvirtqueue_get_used(n->rx, &id, &l)) {
        return false;
    }
    *len = rx_copy_out(n, id, l, frame, cap, NULL, NULL);
    return true;
}

size_t qvnet_rx_wait(QVirtioNet *n, uint8_t *frame, size_t cap, uint16_t *num_buffers)
{
    uint32_t id, len;
    qvirtqueue_wait_used(n->rx, &id, &len);
    return rx_copy_out(n, id, len, frame, cap, num_buffers, NULL);
}

size_t qvnet_rx_wait_hdr(QVirtioNet *n, uint8_t *hdr, uint8_t *frame, size_t cap)
{
    uint32_t id, len;
    qvirtqueue_wait_used(n->rx, &id, &len);
    return rx_copy_out(n, id, len, frame, cap, NULL, hdr);
}

void qvnet_tx(QVirtioNet *n, const void *frame, size_t len)
{
    static const uint8_t zero_hdr[QVNET_HDR_LEN];
    qvnet_tx_hdr(n, zero_hdr, frame, len);
}

void qvnet_tx_hdr(QVirtioNet *n, const uint8_t *hdr, const void *frame, size_t len)
{
    uint64_t addr = qtest_alloc(n->qts, QVNET_HDR_LEN + len);
    qtest_memwrite(n->qts, addr, hdr, QVNET_HDR_LEN);
    qtest_memwrite(n->qts, addr + QVNET_HDR_LEN, frame, len);
    uint16_t head = qvirtqueue_add(n->tx, addr, QVNET_HDR_LEN + len, false, true);
    qvirtqueue_submit(n->tx, head);
    uint32_t id;
    qvirtqueue_wait_used(n->tx, &id, NULL);
    g_assert_cmpuint(id, ==, head);
}

QVnetCtrlReq qvnet_ctrl_submit(QVirtioNet *n, uint8_t cls, uint8_t cmd, const void *data,
                               size_t len)
{
    g_assert_nonnull(n->ctrl);
    uint64_t hdr = qtest_alloc(n->qts, 2);
    QVnetCtrlReq req = {.ack = qtest_alloc(n->qts, 1)};
    uint8_t h[2] = {cls, cmd};
    qtest_memwrite(n->qts, hdr, h, 2);
    qtest_writeb(n->qts, req.ack, 0xee);
    req.head = qvirtqueue_add(n->ctrl, hdr, 2, false, true);
    if (len) {
        uint64_t d = qtest_alloc(n->qts, len);
        qtest_memwrite(n->qts, d, data, len);
        qvirtqueue_add(n->ctrl, d, len, false, false);
    }
    qvirtqueue_add(n->ctrl, req.ack, 1, true, false);
    qvirtqueue_submit(n->ctrl, req.head);
    return req;
}

uint8_t qvnet_ctrl_wait(QVirtioNet *n, QVnetCtrlReq req)
{
    uint32_t id, used_len;
    qvirtqueue_wait_used(n->ctrl, &id, &used_len);
    g_assert_cmpuint(id, ==, req.head);
    g_assert_cmpuint(used_len, ==, 1);
    return qtest_readb(n->qts, req.ack);
}

uint8_t qvnet_ctrl(QVirtioNet *n, uint8_t cls, uint8_t cmd, const void *data, size_t len)
{
    return qvnet_ctrl_wait(n, qvnet_ctrl_submit(n, cls, cmd, data, len));
}

static void write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t r = write(fd, p, len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        g_assert_cmpint(r, >, 0);
        p += r;
        len -= r;
    }
}

void qvnet_backend_send(int fd, const void *frame, size_t len)
{
    uint32_t be = htonl(len);
    write_all(fd, &be, 4);
    write_all(fd, frame, len);
}

/* Read exactly len bytes within the deadline; false when nothing came in time. */
static bool read_full(int fd, uint8_t *buf, size_t len, gint64 deadline)
{
    size_t got = 0;
    while (got < len) {
        int left = (int)MAX(0, (deadline - g_get_monotonic_time()) / 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left) != 1) {
            g_assert_cmpuint(got, ==, 0); /* half a frame then silence: a tern bug */
            return false;
        }
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        g_assert_cmpint(r, >, 0);
        got += r;
    }
    return true;
}

ssize_t qvnet_backend_recv(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000LL;
    uint8_t be[4];
    if (!read_full(fd, be, 4, deadline)) {
        return -1;
    }
    size_t len = ld_be32(be);
    g_assert_cmpuint(len, <=, cap);
    g_assert_true(
        read_full(fd, buf, len, g_get_monotonic_time() + QVIRTIO_TIMEOUT_MS * 1000LL));
    return len;
}

void qvnet_backend_expect(int fd, const void *want, size_t len)
{
    uint8_t got[NET_TEST_FRAME_MAX];
    ssize_t n = qvnet_backend_recv(fd, got, sizeof(got), QVIRTIO_TIMEOUT_MS);
    g_assert_cmpint(n, ==, len);
    g_assert_cmpmem(got, len, want, len);
}

void qvnet_backend_expect_rarp(int fd, const uint8_t mac[6], uint16_t vlan)
{
    uint8_t want[64];
    size_t len = qvnet_build_rarp(want, mac, vlan);
    qvnet_backend_expect(fd, want, len);
}

void qvnet_backend_expect_none(int fd, int ms)
{
    uint8_t got[NET_TEST_FRAME_MAX];
    g_assert_cmpint(qvnet_backend_recv(fd, got, sizeof(got), ms), ==, -1);
}

size_t qvnet_build_rarp(uint8_t *buf, const uint8_t mac[6], uint16_t vlan)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    /* htype 1, ptype IPv4, hlen 6, plen 4, opcode 3; sender and target MAC, IPs 0. */
    static const uint8_t arp[] = {0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x03};
    memset(buf, 0, 64);
    size_t o = qvnet_build_frame(buf, bcast, mac, vlan, 0x8035, 0);
    memcpy(buf + o, arp, sizeof(arp));
    memcpy(buf + o + 8, mac, 6);
    memcpy(buf + o + 18, mac, 6);
    return vlan ? 64 : 60;
}

size_t qvnet_build_frame(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6],
                         uint16_t vlan, uint16_t ethertype, size_t payload_len)
{
    size_t o = 0;
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    o = 12;
    if (vlan) {
        buf[o++] = 0x81;
        buf[o++] = 0x00;
        buf[o++] = vlan >> 8;
        buf[o++] = vlan & 0xff;
    }
    buf[o++] = ethertype >> 8;
    buf[o++] = ethertype & 0xff;
    for (size_t i = 0; i < payload_len; i++) {
        buf[o++] = (uint8_t)(i * 13 + 7);
    }
    return o;
}
