/*
 * test-net.c: the net layer: peer delivery, bounded queues and back-pressure, drop
 * counting, set_link, MAC helpers, the -netdev option checks, and the socket and tap
 * backends over real file descriptors (socketpairs, TCP on loopback, a tap device seen
 * through an AF_PACKET socket when the host allows it).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bswap.h"
#include "error.h"
#include "main-loop.h"
#include "net/net.h"
#include "../lib/test-ports.h"

/* A client that records what it receives and refuses while `accept` is false (a NIC
 * whose guest has posted no buffers). */
typedef struct {
    NetClientState *nc;
    bool accept;
    int budget;        /* > 0: accept this many more, then refuse */
    GPtrArray *frames; /* GByteArray * */
    int send_ready, link_changes;
} Fake;

static ssize_t fake_receive(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    Fake *f = nc->opaque;
    if (!f->accept) {
        return 0;
    }
    if (f->budget > 0 && --f->budget == 0) {
        f->accept = false;
    }
    GByteArray *b = g_byte_array_new();
    for (int i = 0; i < iovcnt; i++) {
        g_byte_array_append(b, iov[i].iov_base, iov[i].iov_len);
    }
    g_ptr_array_add(f->frames, b);
    return b->len ? (ssize_t)b->len : 1;
}

static void fake_send_ready(NetClientState *nc)
{
    ((Fake *)nc->opaque)->send_ready++;
}

static void fake_link(NetClientState *nc)
{
    ((Fake *)nc->opaque)->link_changes++;
}

static const NetClientInfo fake_nic_info = {
    .kind = NET_CLIENT_NIC,
    .type = "fake-nic",
    .receive = fake_receive,
    .send_ready = fake_send_ready,
    .link_status_changed = fake_link,
};

static const NetClientInfo fake_backend_info = {
    .kind = NET_CLIENT_BACKEND,
    .type = "fake-backend",
    .receive = fake_receive,
    .send_ready = fake_send_ready,
    .link_status_changed = fake_link,
};

static Fake *fake_new(const NetClientInfo *info, const char *name)
{
    Fake *f = g_new0(Fake, 1);
    f->accept = true;
    f->frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    f->nc = net_client_new(info, name, f);
    return f;
}

static void fake_free(Fake *f)
{
    net_client_free(f->nc);
    g_ptr_array_unref(f->frames);
    g_free(f);
}

static void fill_frame(uint8_t *buf, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)(seq * 7 + i);
    }
    memcpy(buf, &seq, sizeof(seq));
}

static uint32_t frame_seq(GByteArray *b)
{
    uint32_t seq;
    memcpy(&seq, b->data, sizeof(seq));
    return seq;
}

static void test_peer_delivery(void)
{
    Fake *nic = fake_new(&fake_nic_info, "nic0"), *be = fake_new(&fake_backend_info, "be0");
    g_assert_true(net_client_connect(nic->nc, be->nc, NULL));
    g_assert_true(net_backend_find("be0") == be->nc);
    g_assert_null(net_backend_find("nic0"));
    g_assert_true(net_nic_find("nic0") == nic->nc);
    g_assert_true(g_ptr_array_find(net_nics(), nic->nc, NULL));

    uint8_t a[] = {1, 2, 3}, b[] = {4, 5};
    struct iovec iov[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
    g_assert_true(net_send(be->nc, iov, 2));
    g_assert_cmpuint(nic->frames->len, ==, 1);
    GByteArray *got = g_ptr_array_index(nic->frames, 0);
    g_assert_cmpmem(got->data, got->len, ((uint8_t[]){1, 2, 3, 4, 5}), 5);
    g_assert_true(net_send_buf(nic->nc, a, sizeof(a)));
    g_assert_cmpuint(be->frames->len, ==, 1);

    /* A backend takes one NIC only. */
    Fake *nic2 = fake_new(&fake_nic_info, "nic1");
    g_autoptr(GError) err = NULL;
    g_assert_false(net_client_connect(nic2->nc, be->nc, &err));
    g_assert_cmpstr(err->message, ==, "netdev 'be0' is already in use by 'nic0'");
    fake_free(nic2);
    fake_free(nic);
    g_assert_null(be->nc->peer);
    fake_free(be);
}

/* The receiver refuses: frames wait in order up to the bound, the next is dropped and
 * counted, and the flush delivers the rest in order and wakes the sender. */
static void test_queue_bound_and_flush(void)
{
    Fake *nic = fake_new(&fake_nic_info, "nic0"), *be = fake_new(&fake_backend_info, "be0");
    g_assert_true(net_client_connect(nic->nc, be->nc, NULL));
    nic->accept = false;
    uint8_t buf[100];
    for (uint32_t i = 0; i < NET_QUEUE_MAX_FRAMES; i++) {
        g_assert_true(net_can_send(be->nc));
        fill_frame(buf, sizeof(buf), i);
        g_assert_true(net_send_buf(be->nc, buf, sizeof(buf)));
    }
    g_assert_cmpuint(nic->nc->dropped, ==, 0);
    g_assert_false(net_can_send(be->nc));
    fill_frame(buf, sizeof(buf), 9999);
    g_assert_false(net_send_buf(be->nc, buf, sizeof(buf)));
    g_assert_cmpuint(nic->nc->dropped, ==, 1);
    g_assert_cmpuint(nic->frames->len, ==, 0);

    /* Buffers for 10 frames only: 10 flow, the rest keep waiting. */
    nic->accept = true;
    nic->budget = 10;
    net_client_flush(nic->nc);
    g_assert_cmpuint(nic->frames->len, ==, 10);
    g_assert_cmpint(be->send_ready, ==, 1);
    g_assert_true(net_can_send(be->nc));

    /* A new frame goes behind those still waiting, never ahead of them. */
    nic->accept = true;
    fill_frame(buf, sizeof(buf), NET_QUEUE_MAX_FRAMES);
    g_assert_true(net_send_buf(be->nc, buf, sizeof(buf)));
    g_assert_cmpuint(nic->frames->len, ==, 10);
    net_client_flush(nic->nc);
    g_assert_cmpuint(nic->frames->len, ==, NET_QUEUE_MAX_FRAMES + 1);
    for (uint32_t i = 0; i < nic->frames->len; i++) {
        GByteArray *f = g_ptr_array_index(nic->frames, i);
        g_assert_cmpuint(frame_seq(f), ==, i);
        uint8_t want[100];
        fill_frame(want, sizeof(want), i);
        g_assert_cmpmem(f->data, f->len, want, sizeof(want));
    }
    g_assert_cmpuint(nic->nc->dropped, ==, 1);
    g_assert_cmpuint(g_queue_get_length(nic->nc->queue), ==, 0);
    fake_free(nic);
    fake_free(be);
}

static ssize_t refuse_receive(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    return -1;
}

static void test_drops(void)
{
    static const NetClientInfo filter_info = {
        .kind = NET_CLIENT_NIC, .type = "filter", .receive = refuse_receive};
    uint8_t buf[60] = {0};
    /* No peer: the sender counts it. */
    Fake *lone = fake_new(&fake_backend_info, "lone");
    g_assert_false(net_send_buf(lone->nc, buf, sizeof(buf)));
    g_assert_cmpuint(lone->nc->dropped, ==, 1);
    g_assert_false(net_can_send(lone->nc));

    /* A receiver that filters a frame out is not a drop. */
    NetClientState *filter = net_client_new(&filter_info, "filter0", NULL);
    g_assert_true(net_client_connect(filter, lone->nc, NULL));
    g_assert_true(net_send_buf(lone->nc, buf, sizeof(buf)));
    g_assert_cmpuint(filter->dropped, ==, 0);
    g_assert_cmpuint(g_queue_get_length(filter->queue), ==, 0);
    net_client_free(filter);
    fake_free(lone);
}

static void test_set_link(void)
{
    Fake *nic = fake_new(&fake_nic_info, "nic0"), *be = fake_new(&fake_backend_info, "be0");
    g_assert_true(net_client_connect(nic->nc, be->nc, NULL));
    g_autoptr(GError) err = NULL;
    g_assert_false(net_set_link("nosuch", false, &err));
    g_assert_true(g_error_matches(err, TERN_ERROR, TERN_ERROR_DEVICE_NOT_FOUND));
    g_assert_cmpstr(err->message, ==, "Device 'nosuch' not found");

    /* By NIC name: both ends go down, both hear of it; frames are dropped and counted. */
    g_assert_true(net_set_link("nic0", false, NULL));
    g_assert_true(nic->nc->link_down && be->nc->link_down);
    g_assert_cmpint(nic->link_changes, ==, 1);
    g_assert_cmpint(be->link_changes, ==, 1);
    uint8_t buf[60] = {0};
    g_assert_false(net_send_buf(be->nc, buf, sizeof(buf)));
    g_assert_false(net_send_buf(nic->nc, buf, sizeof(buf)));
    g_assert_cmpuint(nic->nc->dropped + be->nc->dropped, ==, 2);
    g_assert_cmpuint(nic->frames->len + be->frames->len, ==, 0);

    /* By netdev name, back up. */
    g_assert_true(net_set_link("be0", true, NULL));
    g_assert_false(nic->nc->link_down || be->nc->link_down);
    g_assert_true(net_send_buf(be->nc, buf, sizeof(buf)));
    g_assert_cmpuint(nic->frames->len, ==, 1);
    fake_free(nic);
    fake_free(be);
}

static void test_free_with_queue(void)
{
    Fake *nic = fake_new(&fake_nic_info, "nic0"), *be = fake_new(&fake_backend_info, "be0");
    g_assert_true(net_client_connect(nic->nc, be->nc, NULL));
    nic->accept = false;
    uint8_t buf[60] = {0};
    for (int i = 0; i < 5; i++) {
        g_assert_true(net_send_buf(be->nc, buf, sizeof(buf)));
    }
    be->accept = false;
    g_assert_true(net_send_buf(nic->nc, buf, sizeof(buf)));
    /* The backend goes: what it sent and what waited for it go too. */
    fake_free(be);
    g_assert_null(nic->nc->peer);
    g_assert_cmpuint(g_queue_get_length(nic->nc->queue), ==, 0);
    fake_free(nic);
}

static void test_mac(void)
{
    uint8_t mac[ETH_ALEN];
    g_assert_true(net_parse_mac("52:54:00:12:34:56", mac));
    g_assert_cmpmem(mac, 6, ((uint8_t[]){0x52, 0x54, 0x00, 0x12, 0x34, 0x56}), 6);
    g_assert_true(net_parse_mac("FE-ff-0a-0B-c0-d1", mac));
    g_autofree char *s = net_format_mac(mac);
    g_assert_cmpstr(s, ==, "fe:ff:0a:0b:c0:d1");
    static const char *const bad[] = {"",
                                      "52:54:00:12:34",
                                      "52:54:00:12:34:56:78",
                                      "52:54:00:12:34:5g",
                                      "5:54:00:12:34:56",
                                      "52:54:00:12:34:56 ",
                                      "525400123456"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(net_parse_mac(bad[i], mac));
    }
    g_assert_true(net_parse_mac("fe:ff:0a:0b:c0:d1", mac)); /* untouched by failures */
}

static bool netdev(const char *spec, GError **errp)
{
    TernOpts *o = opts_parse("-netdev", spec, "type", errp);
    if (!o) {
        return false;
    }
    bool ok = netdev_create(o, errp);
    opts_free(o);
    return ok;
}

static void expect_netdev_error(const char *spec, const char *msg)
{
    g_autoptr(GError) err = NULL;
    g_assert_false(netdev(spec, &err));
    g_assert_nonnull(err);
    if (!strstr(err->message, msg)) {
        g_test_message("'%s': got '%s', expected '%s'", spec, err->message, msg);
        g_test_fail();
    }
}

static void test_option_checks(void)
{
    expect_netdev_error("user,id=u0", "backend type not supported");
    expect_netdev_error("tap,id=t0,ifname=x,queues=4", "property 'queues' is not supported");
    expect_netdev_error("tap,id=t0,script=/etc/qemu-ifup",
                        "script= is not supported, use script=no");
    expect_netdev_error("tap,id=t0,downscript=/etc/qemu-ifdown",
                        "downscript= is not supported, use downscript=no");
    expect_netdev_error("tap,id=t0,vhost=on", "vhost=on is not supported");
    expect_netdev_error("tap,id=t0,vhost=maybe", "must be on or off");
    expect_netdev_error("tap,id=t0,fd=99999", "fd=99999 is not an open file descriptor");
    expect_netdev_error("tap,id=t0,fd=0,ifname=tap0", "invalid with fd=");
    expect_netdev_error("tap,id=t0,ifname=abcdefghijklmnopqrstu", "longer than 15");
    expect_netdev_error("socket,id=s0", "exactly one of fd=, listen= or connect=");
    expect_netdev_error("socket,id=s0,listen=:1,connect=:2",
                        "exactly one of fd=, listen= or connect=");
    expect_netdev_error("socket,id=s0,mcast=230.0.0.1:1234", "mcast=, udp= and localaddr=");
    expect_netdev_error("socket,id=s0,foo=bar", "property 'foo' is not supported");
    expect_netdev_error("socket,id=s0,connect=nocolon", "expected HOST:PORT");
    expect_netdev_error("socket,id=s0,fd=99999", "not an open file descriptor");
    int p[2];
    g_assert_no_errno(pipe(p));
    g_autofree char *spec = g_strdup_printf("socket,id=s0,fd=%d", p[0]);
    expect_netdev_error(spec, "is not a stream or datagram socket");
    close(p[0]);
    close(p[1]);
    g_assert_null(net_backend_find("s0"));
    g_assert_null(net_backend_find("t0"));
}

/* Run the main loop until cond() or about 5 s. */
static bool loop_until(bool (*cond)(void *), void *opaque)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!cond(opaque)) {
        if (g_get_monotonic_time() > end) {
            return false;
        }
        if (!main_loop_iterate(false)) {
            g_usleep(1000);
        }
    }
    return true;
}

typedef struct {
    Fake *f;
    guint n;
} Want;

static bool have_frames(void *opaque)
{
    Want *w = opaque;
    return w->f->frames->len >= w->n;
}

static void spin(int iterations)
{
    for (int i = 0; i < iterations; i++) {
        main_loop_iterate(false);
    }
}

static void write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        g_assert_cmpint(n, >, 0);
        p += n;
        len -= n;
    }
}

static Fake *socket_backend_on_fd(int fd, const char *id)
{
    g_autofree char *spec = g_strdup_printf("socket,id=%s,fd=%d", id, fd);
    g_autoptr(GError) err = NULL;
    g_assert_true(netdev(spec, &err));
    g_assert_no_error(err);
    g_autofree char *nic_name = g_strdup_printf("nic-%s", id);
    Fake *nic = fake_new(&fake_nic_info, nic_name);
    g_assert_true(net_client_connect(nic->nc, net_backend_find(id), NULL));
    return nic;
}

/* -netdev hubport: a frame from one port's NIC reaches the NICs of the other ports of
 * that hub only; a port alone on its hub drops what it gets. */
static void test_hubport(void)
{
    Fake *nic[4];
    const char *specs[] = {"hubport,id=h0,hubid=0", "hubport,id=h1,hubid=0",
                           "hubport,id=h2,hubid=0", "hubport,id=h3,hubid=7"};
    for (int i = 0; i < 4; i++) {
        g_autoptr(GError) err = NULL;
        g_assert_true(netdev(specs[i], &err));
        g_autofree char *name = g_strdup_printf("hn%d", i);
        nic[i] = fake_new(&fake_nic_info, name);
        g_autofree char *id = g_strdup_printf("h%d", i);
        g_assert_true(net_client_connect(nic[i]->nc, net_backend_find(id), NULL));
    }
    uint8_t a[5] = "TEST";
    g_assert_true(net_send_buf(nic[0]->nc, a, sizeof(a)));
    g_assert_cmpuint(nic[0]->frames->len, ==, 0);
    g_assert_cmpuint(nic[1]->frames->len, ==, 1);
    g_assert_cmpuint(nic[2]->frames->len, ==, 1);
    g_assert_cmpuint(nic[3]->frames->len, ==, 0);
    GByteArray *got = g_ptr_array_index(nic[2]->frames, 0);
    g_assert_cmpmem(got->data, got->len, a, sizeof(a));
    g_assert_true(net_send_buf(nic[3]->nc, a, sizeof(a))); /* alone: goes nowhere */
    g_assert_cmpuint(nic[1]->frames->len + nic[2]->frames->len, ==, 2);

    expect_netdev_error("hubport,id=hx", "needs hubid=N");
    expect_netdev_error("hubport,id=hx,hubid=-1", "'hubid' must be a number");
    expect_netdev_error("hubport,id=hx,hubid=0,netdev=n", "property 'netdev' is not supported");
    for (int i = 0; i < 4; i++) {
        fake_free(nic[i]);
    }
    net_cleanup();
}

/* QEMU's framing arrives in pieces of every size; frames come out whole and in order. */
static void test_socket_stream_reassembly(void)
{
    int sv[2];
    g_assert_no_errno(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    Fake *nic = socket_backend_on_fd(sv[0], "s0");

    uint8_t frame[1500];
    fill_frame(frame, sizeof(frame), 1);
    uint8_t hdr[4];
    st_be32(hdr, sizeof(frame));
    /* Byte by byte through the header, then the payload in three ragged pieces. */
    for (int i = 0; i < 4; i++) {
        write_all(sv[1], hdr + i, 1);
        spin(3);
        g_assert_cmpuint(nic->frames->len, ==, 0);
    }
    write_all(sv[1], frame, 7);
    spin(3);
    write_all(sv[1], frame + 7, 1000);
    spin(3);
    g_assert_cmpuint(nic->frames->len, ==, 0);
    write_all(sv[1], frame + 1007, sizeof(frame) - 1007);
    Want w = {nic, 1};
    g_assert_true(loop_until(have_frames, &w));
    GByteArray *got = g_ptr_array_index(nic->frames, 0);
    g_assert_cmpmem(got->data, got->len, frame, sizeof(frame));

    /* Many frames in one write, the last one split across two writes; a zero-length
     * record is skipped. */
    GByteArray *blob = g_byte_array_new();
    for (uint32_t i = 2; i < 12; i++) {
        uint32_t len = 60 + i * 13;
        uint8_t f[256];
        fill_frame(f, len, i);
        st_be32(hdr, len);
        g_byte_array_append(blob, hdr, 4);
        g_byte_array_append(blob, f, len);
        if (i == 5) {
            st_be32(hdr, 0);
            g_byte_array_append(blob, hdr, 4);
        }
    }
    write_all(sv[1], blob->data, blob->len - 30);
    spin(5);
    g_assert_cmpuint(nic->frames->len, ==, 10);
    write_all(sv[1], blob->data + blob->len - 30, 30);
    w.n = 11;
    g_assert_true(loop_until(have_frames, &w));
    for (uint32_t i = 1; i < 11; i++) {
        GByteArray *f = g_ptr_array_index(nic->frames, i);
        g_assert_cmpuint(frame_seq(f), ==, i + 1);
        g_assert_cmpuint(f->len, ==, 60 + (i + 1) * 13);
    }
    g_byte_array_unref(blob);

    /* NIC to socket: length first, big-endian. */
    g_assert_true(net_send_buf(nic->nc, frame, 300));
    uint8_t back[304];
    size_t have = 0;
    while (have < sizeof(back)) {
        ssize_t n = read(sv[1], back + have, sizeof(back) - have);
        g_assert_cmpint(n, >, 0);
        have += n;
    }
    g_assert_cmpmem(back, 4, ((uint8_t[]){0, 0, 0x01, 0x2c}), 4);
    g_assert_cmpmem(back + 4, 300, frame, 300);

    net_client_free(net_backend_find("s0"));
    fake_free(nic);
    close(sv[1]);
}

/* A length beyond NET_FRAME_MAX drops the connection with a message; nothing crashes and
 * nothing of it is delivered. */
static void test_socket_bad_length(void)
{
    int sv[2];
    g_assert_no_errno(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    Fake *nic = socket_backend_on_fd(sv[0], "s1");
    uint8_t hdr[4];
    st_be32(hdr, NET_FRAME_MAX + 1);
    write_all(sv[1], hdr, 4);
    write_all(sv[1], "garbage", 7);
    /* The far end sees the connection close. */
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    uint8_t c;
    ssize_t n = -1;
    g_unix_set_fd_nonblocking(sv[1], TRUE, NULL);
    while (g_get_monotonic_time() < end) {
        main_loop_iterate(false);
        n = read(sv[1], &c, 1);
        if (n == 0) {
            break;
        }
        g_usleep(1000);
    }
    g_assert_cmpint(n, ==, 0);
    g_assert_cmpuint(nic->frames->len, ==, 0);
    /* Sending to a closed connection drops, it does not fail loudly. */
    uint8_t frame[60] = {0};
    net_send_buf(nic->nc, frame, sizeof(frame));
    g_assert_cmpuint(net_backend_find("s1")->dropped, ==, 1);
    net_client_free(net_backend_find("s1"));
    fake_free(nic);
    close(sv[1]);
}

/* The NIC has no buffers: the socket backend stops reading at the queue bound and loses
 * nothing; when buffers come every frame arrives, in order. */
static void test_socket_backpressure(void)
{
    int sv[2];
    g_assert_no_errno(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    Fake *nic = socket_backend_on_fd(sv[0], "s2");
    nic->accept = false;
    const uint32_t total = NET_QUEUE_MAX_FRAMES + 200;
    GByteArray *blob = g_byte_array_new();
    for (uint32_t i = 0; i < total; i++) {
        uint8_t f[64], hdr[4];
        fill_frame(f, sizeof(f), i);
        st_be32(hdr, sizeof(f));
        g_byte_array_append(blob, hdr, 4);
        g_byte_array_append(blob, f, sizeof(f));
    }
    write_all(sv[1], blob->data, blob->len);
    g_byte_array_unref(blob);
    spin(50);
    g_assert_cmpuint(g_queue_get_length(nic->nc->queue), ==, NET_QUEUE_MAX_FRAMES);
    g_assert_cmpuint(nic->nc->dropped, ==, 0);
    nic->accept = true;
    net_client_flush(nic->nc);
    Want w = {nic, total};
    g_assert_true(loop_until(have_frames, &w));
    for (uint32_t i = 0; i < total; i++) {
        g_assert_cmpuint(frame_seq(g_ptr_array_index(nic->frames, i)), ==, i);
    }
    g_assert_cmpuint(nic->nc->dropped, ==, 0);
    net_client_free(net_backend_find("s2"));
    fake_free(nic);
    close(sv[1]);
}

static void test_socket_datagram(void)
{
    int sv[2];
    g_assert_no_errno(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    Fake *nic = socket_backend_on_fd(sv[0], "s3");
    uint8_t frame[200];
    fill_frame(frame, sizeof(frame), 5);
    g_assert_cmpint(send(sv[1], frame, sizeof(frame), 0), ==, sizeof(frame));
    Want w = {nic, 1};
    g_assert_true(loop_until(have_frames, &w));
    GByteArray *got = g_ptr_array_index(nic->frames, 0);
    g_assert_cmpmem(got->data, got->len, frame, sizeof(frame));
    g_assert_true(net_send_buf(nic->nc, frame, 77));
    uint8_t back[256];
    g_assert_cmpint(recv(sv[1], back, sizeof(back), 0), ==, 77);
    g_assert_cmpmem(back, 77, frame, 77);
    net_client_free(net_backend_find("s3"));
    fake_free(nic);
    close(sv[1]);
}

/* Two backends in one process: listen= and connect= over loopback TCP, frames both ways. */
static void test_socket_listen_connect(void)
{
    int port = test_free_tcp_port();
    g_autofree char *l = g_strdup_printf("socket,id=sl,listen=127.0.0.1:%d", port);
    g_autofree char *c = g_strdup_printf("socket,id=sc,connect=127.0.0.1:%d", port);
    g_autoptr(GError) err = NULL;
    g_assert_true(netdev(l, &err));
    g_assert_no_error(err);
    g_assert_true(netdev(c, &err));
    g_assert_no_error(err);
    expect_netdev_error(l, "Duplicate ID 'sl' for netdev");
    Fake *a = fake_new(&fake_nic_info, "nic-a"), *b = fake_new(&fake_nic_info, "nic-b");
    g_assert_true(net_client_connect(a->nc, net_backend_find("sl"), NULL));
    g_assert_true(net_client_connect(b->nc, net_backend_find("sc"), NULL));
    spin(10); /* accept */
    uint8_t frame[1000];
    fill_frame(frame, sizeof(frame), 42);
    g_assert_true(net_send_buf(b->nc, frame, sizeof(frame)));
    Want w = {a, 1};
    g_assert_true(loop_until(have_frames, &w));
    g_assert_cmpmem(((GByteArray *)g_ptr_array_index(a->frames, 0))->data, sizeof(frame), frame,
                    sizeof(frame));
    g_assert_true(net_send_buf(a->nc, frame, 64));
    w = (Want){b, 1};
    g_assert_true(loop_until(have_frames, &w));

    int refused_port = test_free_tcp_port();
    g_autofree char *bad = g_strdup_printf("socket,id=sx,connect=127.0.0.1:%d", refused_port);
    expect_netdev_error(bad, "Connection refused");
    net_client_free(net_backend_find("sc"));
    net_client_free(net_backend_find("sl"));
    fake_free(a);
    fake_free(b);
}

/* A real tap: what the NIC sends leaves the tap interface (seen by an AF_PACKET socket),
 * what is sent on the interface reaches the NIC, with the vnet header handled. Needs
 * CAP_NET_ADMIN and /dev/net/tun; skipped otherwise. */
static bool wait_packet(int ps, uint8_t *buf, size_t len, const uint8_t *match, ssize_t *n)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < end) {
        main_loop_iterate(false);
        *n = recv(ps, buf, len, MSG_DONTWAIT);
        if (*n >= 14 && memcmp(buf + 6, match, 6) == 0) {
            return true;
        }
        if (*n < 0) {
            g_usleep(1000);
        }
    }
    return false;
}

static void check_tap_both_ways(const char *ifname)
{
    g_autofree char *spec =
        g_strdup_printf("tap,id=tp,ifname=%s,script=no,downscript=no", ifname);
    g_autoptr(GError) err = NULL;
    if (!netdev(spec, &err)) {
        g_test_skip(err->message);
        return;
    }
    int ps = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    struct ifreq ifr = {0};
    g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    if (ps < 0 || ioctl(ps, SIOCGIFFLAGS, &ifr) < 0) {
        g_test_skip("no AF_PACKET socket");
        net_client_free(net_backend_find("tp"));
        return;
    }
    ifr.ifr_flags |= IFF_UP;
    g_assert_no_errno(ioctl(ps, SIOCSIFFLAGS, &ifr));
    g_assert_no_errno(ioctl(ps, SIOCGIFINDEX, &ifr));
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = ifr.ifr_ifindex};
    g_assert_no_errno(bind(ps, (struct sockaddr *)&sll, sizeof(sll)));
    Fake *nic = fake_new(&fake_nic_info, "nic-tap");
    g_assert_true(net_client_connect(nic->nc, net_backend_find("tp"), NULL));

    /* NIC -> tap -> the host sees the frame as received on terntest0, byte for byte. */
    uint8_t frame[80] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54,
                         0,    0xaa, 0xbb, 0x01, 0x88, 0xb5}; /* local experimental ethertype */
    for (size_t i = 14; i < sizeof(frame); i++) {
        frame[i] = i;
    }
    g_assert_true(net_send_buf(nic->nc, frame, sizeof(frame)));
    uint8_t buf[2048];
    ssize_t n = 0;
    g_assert_true(wait_packet(ps, buf, sizeof(buf), frame + 6, &n));
    g_assert_cmpmem(buf, n, frame, sizeof(frame));

    /* Host -> terntest0 -> tap -> NIC, the vnet header stripped. */
    uint8_t out[70] = {0x52, 0x54, 0,    0xaa, 0xbb, 0x01, 0x02,
                       0x00, 0x00, 0x12, 0x34, 0x56, 0x88, 0xb5};
    for (size_t i = 14; i < sizeof(out); i++) {
        out[i] = 0xa0 + i;
    }
    g_assert_cmpint(send(ps, out, sizeof(out), 0), ==, sizeof(out));
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    bool found = false;
    while (!found && g_get_monotonic_time() < end) {
        main_loop_iterate(false);
        for (guint i = 0; i < nic->frames->len && !found; i++) {
            GByteArray *f = g_ptr_array_index(nic->frames, i);
            found = f->len == sizeof(out) && memcmp(f->data, out, sizeof(out)) == 0;
        }
        g_usleep(1000);
    }
    g_assert_true(found);
    close(ps);
    net_client_free(net_backend_find("tp"));
    fake_free(nic);
}

static void test_tap(void)
{
    check_tap_both_ways("terntest0");
}

/* Make a persistent tap as QEMU leaves it: vnet header of 12 bytes, checksum and TSO
 * offloads on. False (and a skip) without CAP_NET_ADMIN. */
static bool make_used_persistent_tap(const char *ifname)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
    g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
        if (fd >= 0) {
            close(fd);
        }
        g_test_skip("cannot create a tap (needs /dev/net/tun and CAP_NET_ADMIN)");
        return false;
    }
    int sz = 12;
    g_assert_no_errno(ioctl(fd, TUNSETVNETHDRSZ, &sz));
    g_assert_no_errno(ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6));
    g_assert_no_errno(ioctl(fd, TUNSETPERSIST, 1));
    close(fd);
    return true;
}

static void delete_persistent_tap(const char *ifname)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
    g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    g_assert_no_errno(ioctl(fd, TUNSETIFF, &ifr));
    g_assert_no_errno(ioctl(fd, TUNSETPERSIST, 0));
    close(fd);
}

/* Regression: a tap QEMU used before keeps its 12-byte header and offloads; tern must
 * set its own, or every frame loses two bytes (the switch learns a shifted MAC). */
static void test_tap_reused_after_qemu(void)
{
    const char *ifname = "terntest1";
    if (g_test_subprocess()) {
        check_tap_both_ways(ifname);
        return;
    }
    if (!make_used_persistent_tap(ifname)) {
        return;
    }
    /* The check runs in a child so that the tap is deleted even when it fails. */
    g_test_trap_subprocess(NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
    delete_persistent_tap(ifname);
    g_test_trap_assert_passed();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    g_test_add_func("/net/peer-delivery", test_peer_delivery);
    g_test_add_func("/net/queue-bound-and-flush", test_queue_bound_and_flush);
    g_test_add_func("/net/drops", test_drops);
    g_test_add_func("/net/set-link", test_set_link);
    g_test_add_func("/net/hubport", test_hubport);
    g_test_add_func("/net/free-with-queue", test_free_with_queue);
    g_test_add_func("/net/mac", test_mac);
    g_test_add_func("/net/option-checks", test_option_checks);
    g_test_add_func("/net/socket/stream-reassembly", test_socket_stream_reassembly);
    g_test_add_func("/net/socket/bad-length", test_socket_bad_length);
    g_test_add_func("/net/socket/backpressure", test_socket_backpressure);
    g_test_add_func("/net/socket/datagram", test_socket_datagram);
    g_test_add_func("/net/socket/listen-connect", test_socket_listen_connect);
    g_test_add_func("/net/tap/frames-both-ways", test_tap);
    g_test_add_func("/net/tap/reused-after-qemu", test_tap_reused_after_qemu);
    return g_test_run();
}
