/*
 * test-virtio-net-offload.c: checksum and segmentation offloads between the guest and a
 * real tap. The test runs in a network namespace of its own (tern inherits it) with one
 * tap, toff0, handed to tern as `-netdev tap,fd=N`; a packet socket with PACKET_VNET_HDR
 * on toff0 is the kernel's side of the wire: it reads what the guest sent, with the
 * offload metadata the kernel got, and sends frames with offload metadata toward the
 * guest.
 *
 * What must hold: offloads are offered on a tap (not on a socket netdev); the guest's
 * virtio_net_hdr (NEEDS_CSUM, GSO) reaches the kernel as it was; toward the guest, GSO
 * frames arrive whole when it negotiated GUEST_TSO4 and as complete, checksummed
 * segments when it did not; and after a migration the destination's tap serves the
 * guest's offloads too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bswap.h"
#include "../lib/libqtest.h"
#include "../lib/qvirtio-net.h"
#include "../lib/tern-proc.h"
#include "../migration/migration-util.h"

static const char *skip_reason;
static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};

#define MSS 1400
#define PAYLOAD 2000 /* two segments: 1400 + 600 */
#define ETH_HLEN_ 14
#define IP_HLEN 20
#define TCP_HLEN 20
#define HDRS (ETH_HLEN_ + IP_HLEN + TCP_HLEN)
#define FRAME_LEN (HDRS + PAYLOAD)
#define RX_BUF 4096

/* virtio_net_hdr fields (little-endian) */
#define H_FLAGS 0
#define H_GSO_TYPE 1
#define H_HDR_LEN 2
#define H_GSO_SIZE 4
#define H_CSUM_START 6
#define H_CSUM_OFFSET 8
#define F_NEEDS_CSUM 1
#define GSO_NONE 0
#define GSO_TCPV4 1

/* ---- the namespace, the tap, the packet socket ---------------------------------------- */

static bool write_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    bool ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
    close(fd);
    return ok;
}

/* A namespace of our own, so that the tap and its traffic touch nothing else. */
static void enter_netns(void)
{
    if (unshare(CLONE_NEWNET) < 0) {
        skip_reason = "cannot create a network namespace (needs root)";
        return;
    }
    /* No IPv6 on the tap: no router solicitations reaching the guest unasked. */
    write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        skip_reason = "no /dev/net/tun";
        return;
    }
    close(fd);
}

typedef struct {
    int tap; /* our copy of the tap's fd, handed to tern */
    int pkt; /* the packet socket on the tap */
    int ifindex;
} Wire;

static Wire wire_open(const char *ifname)
{
    Wire w;
    w.tap = open("/dev/net/tun", O_RDWR);
    g_assert_cmpint(w.tap, >=, 0);
    struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
    g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    g_assert_cmpint(ioctl(w.tap, TUNSETIFF, &ifr), ==, 0);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(ioctl(s, SIOCGIFFLAGS, &ifr), ==, 0);
    ifr.ifr_flags |= IFF_UP;
    g_assert_cmpint(ioctl(s, SIOCSIFFLAGS, &ifr), ==, 0);
    g_assert_cmpint(ioctl(s, SIOCGIFINDEX, &ifr), ==, 0);
    w.ifindex = ifr.ifr_ifindex;
    close(s);
    w.pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    g_assert_cmpint(w.pkt, >=, 0);
    int one = 1;
    g_assert_cmpint(setsockopt(w.pkt, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), ==, 0);
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = w.ifindex};
    g_assert_cmpint(bind(w.pkt, (struct sockaddr *)&sll, sizeof(sll)), ==, 0);
    return w;
}

static void wire_close(Wire *w)
{
    close(w->pkt);
    if (w->tap >= 0) {
        close(w->tap);
    }
}

/* The next frame the kernel received from tern on the tap (its virtio_net_hdr in hdr,
 * 10 bytes), or -1 within timeout_ms. Frames the kernel itself sends out are skipped. */
static ssize_t wire_recv(Wire *w, uint8_t *hdr, uint8_t *frame, size_t cap, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + timeout_ms * 1000LL;
    for (;;) {
        int left = (int)((end - g_get_monotonic_time()) / 1000);
        struct pollfd p = {.fd = w->pkt, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            return -1;
        }
        uint8_t buf[10 + 65536];
        struct sockaddr_ll from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(w->pkt, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        g_assert_cmpint(n, >=, 10);
        if (from.sll_pkttype == PACKET_OUTGOING) {
            continue;
        }
        memcpy(hdr, buf, 10);
        g_assert_cmpuint((size_t)n - 10, <=, cap);
        memcpy(frame, buf + 10, n - 10);
        return n - 10;
    }
}

/* Send a frame out of the tap toward tern, with offload metadata (10-byte header). */
static void wire_send(Wire *w, const uint8_t *hdr, const uint8_t *frame, size_t len)
{
    uint8_t buf[10 + 65536];
    memcpy(buf, hdr, 10);
    memcpy(buf + 10, frame, len);
    g_assert_cmpint(send(w->pkt, buf, 10 + len, 0), ==, (ssize_t)(10 + len));
}

/* tern on the tap (our fd closed once tern holds it: the tap lives as long as tern). */
static QTestState *start_on_tap(Wire *w, const char *props, const char *extra)
{
    g_autofree char *args = g_strdup_printf(
        "-netdev tap,id=n0,fd=%d -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56%s%s %s",
        w->tap, props && *props ? "," : "", props ? props : "", extra ? extra : "");
    QTestState *qts = qtest_init_with_fds(args, &w->tap, 1);
    close(w->tap);
    w->tap = -1;
    return qts;
}

/* ---- frames ------------------------------------------------------------------------------ */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += ld_be16(p + i);
    }
    if (len & 1) {
        sum += p[len - 1] << 8;
    }
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

/* The TCP/UDP pseudo-header sum for a segment of l4_len bytes. */
static uint32_t pseudo_sum(const uint8_t *ip, size_t l4_len)
{
    return sum16(ip + 12, 8, 0) + ip[9] + l4_len;
}

/* An IPv4 header for `l4_len` bytes of protocol `proto` from 10.0.0.1 to 10.0.0.2. */
static void build_ip(uint8_t *ip, uint8_t proto, size_t l4_len)
{
    ip[0] = 0x45;
    st_be16(ip + 2, IP_HLEN + l4_len);
    st_be16(ip + 4, 0x1234);
    st_be16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = proto;
    static const uint8_t addrs[8] = {10, 0, 0, 1, 10, 0, 0, 2};
    memcpy(ip + 12, addrs, 8);
    st_be16(ip + 10, ~fold(sum16(ip, IP_HLEN, 0)));
}

/* An IPv4/TCP frame from `src` to `dst` with PAYLOAD bytes; the TCP checksum field holds
 * the pseudo-header sum, as a sender with checksum offload leaves it (NEEDS_CSUM). */
static size_t build_tcp(uint8_t *f, const uint8_t dst[6], const uint8_t src[6])
{
    memset(f, 0, FRAME_LEN);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    st_be16(f + 12, 0x0800);
    uint8_t *ip = f + ETH_HLEN_, *tcp = ip + IP_HLEN;
    build_ip(ip, 6, TCP_HLEN + PAYLOAD);
    st_be16(tcp, 40000);
    st_be16(tcp + 2, 5001);
    st_be16(tcp + 4, 0x1000);
    tcp[12] = 5 << 4;
    tcp[13] = 0x18; /* PSH ACK */
    st_be16(tcp + 14, 65535);
    for (size_t i = 0; i < PAYLOAD; i++) {
        tcp[TCP_HLEN + i] = i * 7 + 3;
    }
    st_be16(tcp + 16, fold(pseudo_sum(ip, TCP_HLEN + PAYLOAD)));
    return FRAME_LEN;
}

/* The offload request for build_tcp's frame: complete the checksum and, with gso,
 * segment at MSS. */
static void tcp_hdr(uint8_t *h, bool gso)
{
    memset(h, 0, QVNET_HDR_LEN);
    h[H_FLAGS] = F_NEEDS_CSUM;
    h[H_GSO_TYPE] = gso ? GSO_TCPV4 : GSO_NONE;
    st_le16(h + H_HDR_LEN, HDRS);
    st_le16(h + H_GSO_SIZE, gso ? MSS : 0);
    st_le16(h + H_CSUM_START, ETH_HLEN_ + IP_HLEN);
    st_le16(h + H_CSUM_OFFSET, 16);
}

/* A UDP datagram of `payload` bytes from port `sport` to 68 (bootpc), its checksum
 * field holding the pseudo-header sum (NEEDS_CSUM: csum_start 34, csum_offset 6). */
static size_t build_udp(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t sport,
                        size_t payload)
{
    size_t ulen = 8 + payload;
    memset(f, 0, ETH_HLEN_ + IP_HLEN + ulen);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    st_be16(f + 12, 0x0800);
    uint8_t *ip = f + ETH_HLEN_, *udp = ip + IP_HLEN;
    build_ip(ip, 17, ulen);
    st_be16(udp, sport);
    st_be16(udp + 2, 68);
    st_be16(udp + 4, ulen);
    for (size_t i = 0; i < payload; i++) {
        udp[8 + i] = i * 5 + 1;
    }
    st_be16(udp + 6, fold(pseudo_sum(ip, ulen)));
    return ETH_HLEN_ + IP_HLEN + ulen;
}

/* A received IPv4 frame's TCP or UDP checksum is complete and right. */
static void assert_l4_csum_ok(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + ETH_HLEN_;
    size_t l4_len = ld_be16(ip + 2) - IP_HLEN;
    g_assert_cmpuint(ETH_HLEN_ + IP_HLEN + l4_len, <=, len);
    g_assert_cmphex(fold(sum16(ip + IP_HLEN, l4_len, pseudo_sum(ip, l4_len))), ==, 0xffff);
}

/* ---- tests ------------------------------------------------------------------------------- */

#define NEED_NETNS()                                                                           \
    do {                                                                                       \
        if (skip_reason) {                                                                     \
            g_test_skip(skip_reason);                                                          \
            return;                                                                            \
        }                                                                                      \
    } while (0)

/* Offered on a tap, each property clears its bit (and the ones built on it); a driver
 * that takes an offload without its base is refused. */
static void test_features(void)
{
    NEED_NETNS();
    static const struct {
        const char *props;
        uint64_t cleared;
    } cases[] = {
        {"", 0},
        {"csum=off", QVNET_BIT(QVNET_F_CSUM) | QVNET_BIT(QVNET_F_HOST_TSO4) |
                         QVNET_BIT(QVNET_F_HOST_TSO6) | QVNET_BIT(QVNET_F_HOST_ECN)},
        {"guest_csum=off", QVNET_BIT(QVNET_F_GUEST_CSUM) | QVNET_BIT(QVNET_F_GUEST_TSO4) |
                               QVNET_BIT(QVNET_F_GUEST_TSO6) | QVNET_BIT(QVNET_F_GUEST_ECN)},
        {"host_tso4=off,host_tso6=off", QVNET_BIT(QVNET_F_HOST_TSO4) |
                                            QVNET_BIT(QVNET_F_HOST_TSO6) |
                                            QVNET_BIT(QVNET_F_HOST_ECN)},
        {"guest_ecn=off", QVNET_BIT(QVNET_F_GUEST_ECN)},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        Wire w = wire_open("toff0");
        QTestState *qts = start_on_tap(&w, cases[i].props, NULL);
        QVirtioDevice *d = qvirtio_pci_find(qts, QVNET_ID);
        g_assert_cmphex(qvirtio_device_features(d), ==,
                        (QVNET_ALL_FEATURES | QVNET_OFFLOAD_FEATURES) & ~cases[i].cleared);
        if (i == 0) {
            uint64_t base = QVNET_BIT(QVIRTIO_F_VERSION_1);
            g_assert_false(qvirtio_negotiate(d, base | QVNET_BIT(QVNET_F_HOST_TSO4)));
            g_assert_false(qvirtio_negotiate(d, base | QVNET_BIT(QVNET_F_GUEST_TSO6)));
            g_assert_false(qvirtio_negotiate(d, base | QVNET_BIT(QVNET_F_GUEST_CSUM) |
                                                    QVNET_BIT(QVNET_F_GUEST_ECN)));
            g_assert_true(qvirtio_negotiate(d, base | QVNET_BIT(QVNET_F_CSUM) |
                                                   QVNET_BIT(QVNET_F_HOST_TSO4)));
        }
        qvirtio_free(d);
        qtest_quit(qts);
        wire_close(&w);
    }
}

/* tern on toff0 with a driver that negotiated `features`. */
typedef struct {
    Wire w;
    QTestState *qts;
    QVirtioNet *n;
} Rig;

static void rig_start(Rig *r, uint64_t features)
{
    r->w = wire_open("toff0");
    r->qts = start_on_tap(&r->w, NULL, NULL);
    r->n = qvnet_init(r->qts, features, true);
}

static void rig_stop(Rig *r)
{
    qvnet_free(r->n);
    qtest_quit(r->qts);
    wire_close(&r->w);
}

/* The guest's checksum and segmentation requests reach the kernel as they were: one
 * 2054-byte TCP frame with NEEDS_CSUM and GSO TCPV4 at MSS 1400. */
static void test_tx_offload(void)
{
    NEED_NETNS();
    Rig r;
    rig_start(&r, QVNET_ALL_FEATURES | QVNET_OFFLOAD_FEATURES);
    uint8_t f[FRAME_LEN], h[QVNET_HDR_LEN], got[65536], gh[10];

    size_t len = build_tcp(f, peer_mac, guest_mac);
    tcp_hdr(h, true);
    qvnet_tx_hdr(r.n, h, f, len);
    g_assert_cmpint(wire_recv(&r.w, gh, got, sizeof(got), 5000), ==, (ssize_t)len);
    g_assert_cmpmem(got, len, f, len);
    g_assert_cmphex(gh[H_FLAGS] & F_NEEDS_CSUM, ==, F_NEEDS_CSUM);
    g_assert_cmphex(gh[H_GSO_TYPE], ==, GSO_TCPV4);
    g_assert_cmpuint(ld_le16(gh + H_GSO_SIZE), ==, MSS);
    g_assert_cmpuint(ld_le16(gh + H_CSUM_START), ==, ETH_HLEN_ + IP_HLEN);
    g_assert_cmpuint(ld_le16(gh + H_CSUM_OFFSET), ==, 16);

    /* A plain frame (zero header) stays plain. */
    qvnet_tx(r.n, f, len);
    g_assert_cmpint(wire_recv(&r.w, gh, got, sizeof(got), 5000), ==, (ssize_t)len);
    g_assert_cmphex(gh[H_GSO_TYPE], ==, GSO_NONE);
    g_assert_cmphex(gh[H_FLAGS] & F_NEEDS_CSUM, ==, 0);
    rig_stop(&r);
}

/* Receive: a GSO frame reaches a guest that negotiated GUEST_TSO4 whole, still asking for
 * its checksum; a guest without offloads gets complete segments with zero headers. */
static void rx_gso(Wire *w, QVirtioNet *n, bool whole)
{
    uint8_t f[FRAME_LEN], h[QVNET_HDR_LEN], got[RX_BUF], gh[QVNET_HDR_LEN];
    size_t len = build_tcp(f, guest_mac, peer_mac);
    for (int i = 0; i < 4; i++) {
        qvnet_rx_post(n, RX_BUF);
    }
    tcp_hdr(h, true);
    wire_send(w, h, f, len);
    if (whole) {
        g_assert_cmpuint(qvnet_rx_wait_hdr(n, gh, got, sizeof(got)), ==, len);
        g_assert_cmphex(gh[H_GSO_TYPE], ==, GSO_TCPV4);
        g_assert_cmpuint(ld_le16(gh + H_GSO_SIZE), ==, MSS);
        g_assert_cmphex(gh[H_FLAGS] & F_NEEDS_CSUM, ==, F_NEEDS_CSUM);
        g_assert_cmpuint(ld_le16(gh + H_CSUM_START), ==, ETH_HLEN_ + IP_HLEN);
        g_assert_cmpmem(got + HDRS, PAYLOAD, f + HDRS, PAYLOAD);
        return;
    }
    size_t seg[2] = {MSS, PAYLOAD - MSS};
    for (int i = 0; i < 2; i++) {
        size_t glen = qvnet_rx_wait_hdr(n, gh, got, sizeof(got));
        g_assert_cmpuint(glen, ==, HDRS + seg[i]);
        static const uint8_t zero[10] = {0}; /* flags .. csum_offset */
        g_assert_cmpmem(gh, sizeof(zero), zero, sizeof(zero));
        assert_l4_csum_ok(got, glen);
        g_assert_cmpmem(got + HDRS, seg[i], f + HDRS + i * MSS, seg[i]);
    }
}

/* With the offloads taken, or offered and not taken (then the tap must not hand over GSO
 * frames or partial checksums). */
static void test_rx_gso(gconstpointer taken)
{
    NEED_NETNS();
    Rig r;
    rig_start(&r, QVNET_ALL_FEATURES | (taken ? QVNET_OFFLOAD_FEATURES : 0));
    rx_gso(&r.w, r.n, taken != NULL);
    rig_stop(&r);
}

/*
 * A partial checksum reaches a guest with GUEST_CSUM as NEEDS_CSUM, except in a DHCP reply
 * (UDP from port 67): tern completes that one, as QEMU does for old dhclients.
 */
static void test_rx_csum_and_dhcp(void)
{
    NEED_NETNS();
    Rig r;
    rig_start(&r, QVNET_ALL_FEATURES | QVNET_OFFLOAD_FEATURES);
    uint8_t f[1500], h[QVNET_HDR_LEN], got[RX_BUF], gh[QVNET_HDR_LEN];
    for (int i = 0; i < 2; i++) {
        qvnet_rx_post(r.n, RX_BUF);
    }
    memset(h, 0, sizeof(h));
    h[H_FLAGS] = F_NEEDS_CSUM;
    st_le16(h + H_CSUM_START, ETH_HLEN_ + IP_HLEN);
    st_le16(h + H_CSUM_OFFSET, 6);

    size_t len = build_udp(f, guest_mac, peer_mac, 53, 301);
    wire_send(&r.w, h, f, len);
    g_assert_cmpuint(qvnet_rx_wait_hdr(r.n, gh, got, sizeof(got)), ==, len);
    g_assert_cmphex(gh[H_FLAGS], ==, F_NEEDS_CSUM);
    g_assert_cmpuint(ld_le16(gh + H_CSUM_START), ==, ETH_HLEN_ + IP_HLEN);
    g_assert_cmpuint(ld_le16(gh + H_CSUM_OFFSET), ==, 6);
    g_assert_cmpmem(got, len, f, len);

    len = build_udp(f, guest_mac, peer_mac, 67, 301);
    wire_send(&r.w, h, f, len);
    g_assert_cmpuint(qvnet_rx_wait_hdr(r.n, gh, got, sizeof(got)), ==, len);
    g_assert_cmphex(gh[H_FLAGS], ==, 0);
    assert_l4_csum_ok(got, len);
    rig_stop(&r);
}

/* After a migration the destination's tap follows the guest's offloads (the features
 * arrive in the stream; nothing is negotiated again). */
static void test_rx_gso_after_migration(void)
{
    NEED_NETNS();
    Wire ws = wire_open("toff0"), wd = wire_open("toff1");
    QTestState *src = start_on_tap(&ws, NULL, NULL);
    QVirtioNet *sn = qvnet_init(src, QVNET_ALL_FEATURES | QVNET_OFFLOAD_FEATURES, true);
    g_autofree char *path = tern_proc_path(qtest_proc(src), "mig.sock");
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    g_autofree char *extra = g_strdup_printf("-incoming %s", uri);
    QTestState *dst = start_on_tap(&wd, NULL, extra);
    mig_wait_listening(qtest_qmp(dst));
    g_autoptr(JsonObject) end = mig_migrate_until_end(qtest_qmp(src), uri, "completed");
    mig_wait_runstate(qtest_qmp(dst), "running");
    QVirtioNet *dn = qvnet_clone(sn, dst);
    rx_gso(&wd, dn, true);
    qvnet_free(dn);
    qvnet_free(sn);
    qtest_quit(dst);
    qtest_quit(src);
    wire_close(&wd);
    wire_close(&ws);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    enter_netns();
    g_test_add_func("/virtio-net-offload/features", test_features);
    g_test_add_func("/virtio-net-offload/tx", test_tx_offload);
    g_test_add_data_func("/virtio-net-offload/rx-gso-whole", "taken", test_rx_gso);
    g_test_add_data_func("/virtio-net-offload/rx-gso-segmented", NULL, test_rx_gso);
    g_test_add_func("/virtio-net-offload/rx-gso-after-migration", test_rx_gso_after_migration);
    g_test_add_func("/virtio-net-offload/rx-csum-and-dhcp", test_rx_csum_and_dhcp);
    return g_test_run();
}
