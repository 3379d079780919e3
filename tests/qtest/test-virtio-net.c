/*
 * test-virtio-net.c: virtio-net-pci at the register level under qtest: PCI identity,
 * feature properties and the combinations refused at start-up, negotiation, rx and tx
 * through a socket netdev, back-pressure, every control command (and malformed ones),
 * the receive filter, query-rx-filter and NIC_RX_FILTER_CHANGED, set_link, and bad
 * descriptors of each kind leaving tern alive.
 */
#include <string.h>
#include <unistd.h>
#include "../lib/qvirtio-net.h"

static const uint8_t default_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t other_mac[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
static const uint8_t mcast2[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};

/* A NIC with everything negotiated, running, on a socket netdev. */
typedef struct {
    QTestState *qts;
    int backend;
    QVirtioNet *net;
    bool marker_bcast; /* receive-filter tests: the marker frame goes to broadcast */
} Fixture;

static void fixture_start(Fixture *f, const char *props, uint64_t features, bool driver_ok)
{
    f->marker_bcast = false;
    f->qts = qvnet_start(props, NULL, &f->backend);
    f->net = qvnet_init(f->qts, features, driver_ok);
}

static void fixture_stop(Fixture *f)
{
    qvnet_free(f->net);
    close(f->backend);
    qtest_quit(f->qts);
}

static void assert_alive(Fixture *f)
{
    g_autofree char *st = qmp_status(qtest_qmp(f->qts));
    g_assert_cmpstr(st, ==, "running");
}

/* ---- identity and features ---------------------------------------------------------- */

static void test_pci_identity(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    QPCIDevice *p = f.net->dev->pdev;
    g_assert_cmphex(qpci_readw(p, 0x00), ==, 0x1af4);
    g_assert_cmphex(qpci_readw(p, 0x02), ==, 0x1041);
    g_assert_cmphex(qpci_readb(p, 0x08), >=, 1);      /* revision: modern */
    g_assert_cmphex(qpci_readw(p, 0x0a), ==, 0x0200); /* ethernet controller */
    g_assert_cmphex(qpci_readw(p, 0x2c), ==, 0x1af4);
    g_assert_cmphex(qpci_readw(p, 0x2e), >=, 0x40);
    g_assert_cmpuint(f.net->dev->notify_mult, ==, 4);
    g_assert_cmpuint(f.net->dev->cfg_cap, !=, 0);
    g_assert_cmpuint(qvirtio_num_queues(f.net->dev), ==, 3);
    uint8_t mac[6];
    qvnet_config_mac(f.net, mac);
    g_assert_cmpmem(mac, 6, default_mac, 6);
    g_assert_cmphex(qvnet_status(f.net), ==, QVNET_S_LINK_UP);
    g_assert_cmphex(qvirtio_config_readw(f.net->dev, 8), ==, 1); /* max_virtqueue_pairs */
    fixture_stop(&f);
}

static void test_mac_property(void)
{
    QTestState *qts = qtest_init("-device virtio-net-pci,mac=02:11:22:33:44:55,id=a "
                                 "-device virtio-net-pci");
    QVirtioDevice *d = qvirtio_pci_find(qts, QVNET_ID);
    uint8_t mac[6];
    for (int i = 0; i < 6; i++) {
        mac[i] = qvirtio_config_readb(d, i);
    }
    static const uint8_t want[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    g_assert_cmpmem(mac, 6, want, 6);
    /* The second NIC, without mac=, gets QEMU's first default. */
    g_autoptr(JsonNode) r = qmp_ok(qtest_qmp(qts), "{'execute': 'query-rx-filter'}");
    JsonArray *a = json_node_get_array(r);
    g_assert_cmpuint(json_array_get_length(a), ==, 2);
    JsonObject *second = json_array_get_object_element(a, 1);
    g_assert_cmpstr(json_object_get_string_member(second, "main-mac"), ==, "52:54:00:12:34:56");
    g_assert_cmpstr(json_object_get_string_member(second, "name"), ==, "virtio-net-pci.0");
    qvirtio_free(d);
    qtest_quit(qts);
}

static void test_features_default(void)
{
    QTestState *qts = qtest_init("-device virtio-net-pci");
    QVirtioDevice *d = qvirtio_pci_find(qts, QVNET_ID);
    g_assert_cmphex(qvirtio_device_features(d), ==, QVNET_ALL_FEATURES);
    qvirtio_free(d);
    qtest_quit(qts);
}

/* Each property off clears its bit and nothing else. */
static const struct {
    const char *props;
    uint64_t cleared;
} feature_props[] = {
    {"mrg_rxbuf=off", QVNET_BIT(QVNET_F_MRG_RXBUF)},
    {"event_idx=off", QVNET_BIT(QVIRTIO_F_EVENT_IDX)},
    {"indirect_desc=off", QVNET_BIT(QVIRTIO_F_INDIRECT_DESC)},
    {"guest_announce=off", QVNET_BIT(QVNET_F_GUEST_ANNOUNCE)},
    {"guest_announce=off,status=off",
     QVNET_BIT(QVNET_F_GUEST_ANNOUNCE) | QVNET_BIT(QVNET_F_STATUS)},
    {"ctrl_vlan=off", QVNET_BIT(QVNET_F_CTRL_VLAN)},
    {"ctrl_rx_extra=off", QVNET_BIT(QVNET_F_CTRL_RX_EXTRA)},
    {"ctrl_rx=off,ctrl_rx_extra=off",
     QVNET_BIT(QVNET_F_CTRL_RX) | QVNET_BIT(QVNET_F_CTRL_RX_EXTRA)},
    {"ctrl_mac_addr=off", QVNET_BIT(QVNET_F_CTRL_MAC_ADDR)},
    {"ctrl_vq=off,ctrl_rx=off,ctrl_vlan=off,ctrl_rx_extra=off,ctrl_mac_addr=off,"
     "guest_announce=off",
     QVNET_BIT(QVNET_F_CTRL_VQ) | QVNET_BIT(QVNET_F_CTRL_RX) | QVNET_BIT(QVNET_F_CTRL_VLAN) |
         QVNET_BIT(QVNET_F_CTRL_RX_EXTRA) | QVNET_BIT(QVNET_F_CTRL_MAC_ADDR) |
         QVNET_BIT(QVNET_F_GUEST_ANNOUNCE)},
    {"mq=off,csum=off,guest_tso4=off", 0},
};

static void test_feature_props(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(feature_props); i++) {
        QTestState *qts = qtest_initf("-device virtio-net-pci,%s", feature_props[i].props);
        QVirtioDevice *d = qvirtio_pci_find(qts, QVNET_ID);
        g_assert_cmphex(qvirtio_device_features(d), ==,
                        QVNET_ALL_FEATURES & ~feature_props[i].cleared);
        /* Without the control queue there are two queues. */
        g_assert_cmpuint(qvirtio_num_queues(d), ==,
                         feature_props[i].cleared & QVNET_BIT(QVNET_F_CTRL_VQ) ? 2 : 3);
        qvirtio_free(d);
        qtest_quit(qts);
    }
}

static const struct {
    const char *args, *message;
} refused[] = {
    {"-device virtio-net-pci,ctrl_vq=off", "requires ctrl_vq=on"},
    {"-device virtio-net-pci,ctrl_vq=off,ctrl_rx=off,ctrl_vlan=off,ctrl_rx_extra=off,"
     "ctrl_mac_addr=off",
     "guest_announce=on requires ctrl_vq=on"},
    {"-device virtio-net-pci,ctrl_vq=off,ctrl_rx=off,ctrl_rx_extra=off,ctrl_mac_addr=off,"
     "guest_announce=off",
     "ctrl_vlan=on requires ctrl_vq=on"},
    {"-device virtio-net-pci,ctrl_rx=off", "ctrl_rx_extra=on requires ctrl_rx=on"},
    {"-device virtio-net-pci,status=off", "guest_announce=on requires status=on"},
    {"-device virtio-net-pci,mq=on", "mq=on is not supported"},
    {"-device virtio-net-pci,guest_ufo=on", "guest_ufo=on is not supported"},
    {"-device virtio-net-pci,host_tso4=on,csum=off", "host_tso4=on requires csum=on"},
    {"-device virtio-net-pci,guest_ecn=on,guest_tso4=off,guest_tso6=off",
     "guest_ecn=on requires guest_tso4=on or guest_tso6=on"},
    {"-device virtio-net-pci,mac=01:00:5e:00:00:01", "multicast"},
    {"-device virtio-net-pci,mac=52:54:00:12:34", "doesn't take value"},
    {"-device virtio-net-pci,announce_rarp=sometimes", "expected 'fallback' or 'always'"},
    {"-device virtio-net-pci,announce_learned=maybe", "announce_learned"},
    {"-device virtio-net-pci,announce_ageing=1000001",
     "'announce_ageing' must be a number from 0 to 1000000"},
    {"-device virtio-net-pci,rx_queue_size=100", "Invalid rx_queue_size"},
    {"-device virtio-net-pci,netdev=nope", "can't find value 'nope'"},
    {"-device virtio-net-pci,bogus=1", "bogus"},
    {"-device virtio-net-pci,tx=poll", "tx=poll: expected 'bh' or 'timer'"},
    {"-device virtio-net-pci,x-txburst=0", "x-txburst=0"},
    {"-device virtio-net-pci,x-txtimer=-1", "x-txtimer"},
    {"-device virtio-net-pci,x-txtimer=5000000000", "x-txtimer"},
    {"-device virtio-net-pci,addr=0x40", "addr"},
    {"-device virtio-net-pci,id=x -device virtio-net-pci,id=x", "uplicate"},
};

static void test_refused(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_autofree char *err = qtest_init_fail(refused[i].args);
        if (!strstr(err, refused[i].message)) {
            g_error("'%s': expected a message with '%s', got '%s'", refused[i].args,
                    refused[i].message, err);
        }
    }
}

static void test_negotiation(void)
{
    QTestState *qts = qtest_init("-device virtio-net-pci");
    QVirtioDevice *d = qvirtio_pci_find(qts, QVNET_ID);
    /* MQ is not offered: FEATURES_OK does not stick. */
    g_assert_false(
        qvirtio_negotiate(d, QVNET_BIT(QVIRTIO_F_VERSION_1) | QVNET_BIT(QVNET_F_MQ)));
    /* A modern-only device needs VERSION_1. */
    g_assert_false(qvirtio_negotiate(d, QVNET_BIT(QVNET_F_MAC)));
    /* A control feature without the control queue. */
    g_assert_false(qvirtio_negotiate(d, QVNET_BIT(QVIRTIO_F_VERSION_1) |
                                            QVNET_BIT(QVNET_F_GUEST_ANNOUNCE) |
                                            QVNET_BIT(QVNET_F_STATUS)));
    g_assert_true(qvirtio_negotiate(d, QVNET_BIT(QVIRTIO_F_VERSION_1)));
    /* Features are fixed after FEATURES_OK. */
    qvirtio_set_driver_features(d, QVNET_ALL_FEATURES);
    qvirtio_driver_ok(d);
    g_assert_cmphex(qvirtio_get_status(d), ==, 0x0f);
    qvirtio_free(d);
    qtest_quit(qts);
}

/* ---- data path ---------------------------------------------------------------------- */

/* The guest transmits a frame; it is the next one the backend gets. */
static void assert_tx_passes(Fixture *f)
{
    uint8_t frame[200], got[2048];
    size_t len = qvnet_build_frame(frame, other_mac, default_mac, 0, 0x0800, 150);
    qvnet_tx(f->net, frame, len);
    g_assert_cmpint(qvnet_backend_recv(f->backend, got, sizeof(got), QVIRTIO_TIMEOUT_MS), ==,
                    len);
    g_assert_cmpmem(got, len, frame, len);
}

static void test_tx(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    assert_tx_passes(&f);
    fixture_stop(&f);
}

/* A transmit chain over 4 GiB in total (each buffer RAM; the spec forbids the driver
 * such chains) is dropped as one oversized frame and the device goes on, as in QEMU
 * (qos-test's large_tx/uint_max). */
static void test_tx_over_4gib(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    for (int i = 0; i < 40; i++) {
        qvirtqueue_desc(f.net->tx, i, 0x100000, 0x7000000, QVIRTIO_DESC_F_NEXT, i + 1);
    }
    qvirtqueue_desc(f.net->tx, 40, 0x100000, 0x7000000, 0, 0);
    qvirtqueue_submit(f.net->tx, 0);
    uint32_t id, len;
    qvirtqueue_wait_used(f.net->tx, &id, &len);
    g_assert_cmpuint(id, ==, 0);
    g_assert_cmphex(qvirtio_get_status(f.net->dev) & QVIRTIO_S_NEEDS_RESET, ==, 0);
    assert_tx_passes(&f); /* and the giant went nowhere */
    fixture_stop(&f);
}

static void check_rx(uint64_t features)
{
    Fixture f;
    fixture_start(&f, "", features, true);
    uint8_t frame[1514], got[2048];
    size_t len = qvnet_build_frame(frame, default_mac, other_mac, 0, 0x0800, 1000);
    qvnet_rx_post(f.net, QVNET_RX_BUF);
    qvnet_backend_send(f.backend, frame, len);
    uint16_t nbuf = 0;
    g_assert_cmpuint(qvnet_rx_wait(f.net, got, sizeof(got), &nbuf), ==, len);
    g_assert_cmpmem(got, len, frame, len);
    g_assert_cmpuint(nbuf, ==, 1); /* 1 also without MRG_RXBUF, as the spec says */
    g_assert_true(qvirtio_take_queue_irq(f.net->rx));
    fixture_stop(&f);
}

static void test_rx(void)
{
    check_rx(QVNET_ALL_FEATURES);
    check_rx(QVNET_BIT(QVIRTIO_F_VERSION_1) | QVNET_BIT(QVNET_F_MAC));
}

static void test_rx_mergeable(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    uint8_t frame[3000], got[3000];
    size_t len = qvnet_build_frame(frame, default_mac, other_mac, 0, 0x0800, 2900);
    uint64_t bufs[3];
    for (int i = 0; i < 3; i++) {
        bufs[i] = qtest_alloc(f.qts, 1100);
        qvirtqueue_submit(f.net->rx, qvirtqueue_add(f.net->rx, bufs[i], 1100, true, true));
    }
    qvnet_backend_send(f.backend, frame, len);
    uint32_t id, l, total = 0;
    for (int i = 0; i < 3; i++) {
        qvirtqueue_wait_used(f.net->rx, &id, &l);
        g_assert_cmpuint(id, ==, i);
        uint32_t hdr = i == 0 ? QVNET_HDR_LEN : 0;
        qtest_memread(f.qts, bufs[i] + hdr, got + total, l - hdr);
        total += l - hdr;
    }
    g_assert_cmpuint(total, ==, len);
    g_assert_cmpmem(got, len, frame, len);
    g_assert_cmpuint(qtest_readw(f.qts, bufs[0] + 10), ==, 3); /* num_buffers */
    fixture_stop(&f);
}

/* Without MRG_RXBUF a frame that does not fit its buffer is dropped, the buffer kept. */
static void test_rx_too_small(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_BIT(QVIRTIO_F_VERSION_1), true);
    uint8_t big[1514], small[100], got[2048];
    size_t blen = qvnet_build_frame(big, default_mac, other_mac, 0, 0x0800, 1400);
    size_t slen = qvnet_build_frame(small, default_mac, other_mac, 0, 0x0800, 60);
    qvnet_rx_post(f.net, 512);
    qvnet_backend_send(f.backend, big, blen);
    qvnet_backend_send(f.backend, small, slen);
    g_assert_cmpuint(qvnet_rx_wait(f.net, got, sizeof(got), NULL), ==, slen);
    g_assert_cmpmem(got, slen, small, slen);
    fixture_stop(&f);
}

/* Frames that arrive before the guest posts buffers wait, in order, none lost. */
static void test_rx_backpressure(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    enum { N = 40 };
    uint8_t frame[N][200], got[2048];
    size_t len[N];
    for (int i = 0; i < N; i++) {
        len[i] = qvnet_build_frame(frame[i], default_mac, other_mac, 0, 0x0800, 60 + i);
        frame[i][14] = i;
        qvnet_backend_send(f.backend, frame[i], len[i]);
    }
    /* Let tern read them all while no buffer is posted. */
    for (int i = 0; i < 50; i++) {
        g_assert_cmpuint(qvirtqueue_used_idx(f.net->rx), ==, 0);
        g_usleep(2000);
    }
    for (int i = 0; i < N; i++) {
        qvnet_rx_post(f.net, QVNET_RX_BUF);
    }
    for (int i = 0; i < N; i++) {
        g_assert_cmpuint(qvnet_rx_wait(f.net, got, sizeof(got), NULL), ==, len[i]);
        g_assert_cmpmem(got, len[i], frame[i], len[i]);
    }
    fixture_stop(&f);
}

/* Frames received before DRIVER_OK wait for it. */
static void test_rx_before_driver_ok(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, false);
    uint8_t frame[100], got[2048];
    size_t len = qvnet_build_frame(frame, default_mac, other_mac, 0, 0x0800, 50);
    qvnet_rx_post(f.net, QVNET_RX_BUF);
    qvnet_backend_send(f.backend, frame, len);
    for (int i = 0; i < 20; i++) {
        g_assert_cmpuint(qvirtqueue_used_idx(f.net->rx), ==, 0);
        g_usleep(2000);
    }
    qvirtio_driver_ok(f.net->dev);
    g_assert_cmpuint(qvnet_rx_wait(f.net, got, sizeof(got), NULL), ==, len);
    fixture_stop(&f);
}

/* ---- control queue ------------------------------------------------------------------ */

static uint8_t ctrl1(QVirtioNet *n, uint8_t cls, uint8_t cmd, uint8_t v)
{
    return qvnet_ctrl(n, cls, cmd, &v, 1);
}

static uint8_t vlan_cmd(QVirtioNet *n, uint8_t cmd, uint16_t vid)
{
    uint8_t d[2] = {vid & 0xff, vid >> 8};
    return qvnet_ctrl(n, 2, cmd, d, 2);
}

/* MAC_TABLE_SET data: le32 count, MACs, le32 count, MACs. */
static size_t mac_table(uint8_t *buf, const uint8_t (*uni)[6], uint32_t nu,
                        const uint8_t (*multi)[6], uint32_t nm)
{
    size_t o = 0;
    memcpy(buf + o, &nu, 4);
    o += 4;
    memcpy(buf + o, uni, 6 * nu);
    o += 6 * nu;
    memcpy(buf + o, &nm, 4);
    o += 4;
    memcpy(buf + o, multi, 6 * nm);
    return o + 6 * nm;
}

static void test_ctrl_rx_class(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    for (uint8_t cmd = 0; cmd <= 5; cmd++) {
        g_assert_cmpuint(ctrl1(f.net, 0, cmd, 1), ==, QVNET_OK);
        g_assert_cmpuint(ctrl1(f.net, 0, cmd, 0), ==, QVNET_OK);
        g_assert_cmpuint(ctrl1(f.net, 0, cmd, 2), ==, QVNET_ERR);
    }
    g_assert_cmpuint(ctrl1(f.net, 0, 6, 1), ==, QVNET_ERR);
    uint8_t two[2] = {1, 0};
    g_assert_cmpuint(qvnet_ctrl(f.net, 0, 0, two, 2), ==, QVNET_ERR);
    g_assert_cmpuint(qvnet_ctrl(f.net, 0, 0, NULL, 0), ==, QVNET_ERR);
    fixture_stop(&f);

    /* Without CTRL_RX_EXTRA only promisc and allmulti exist. */
    fixture_start(&f, "", QVNET_ALL_FEATURES & ~QVNET_BIT(QVNET_F_CTRL_RX_EXTRA), true);
    g_assert_cmpuint(ctrl1(f.net, 0, 0, 0), ==, QVNET_OK);
    g_assert_cmpuint(ctrl1(f.net, 0, 1, 1), ==, QVNET_OK);
    for (uint8_t cmd = 2; cmd <= 5; cmd++) {
        g_assert_cmpuint(ctrl1(f.net, 0, cmd, 1), ==, QVNET_ERR);
    }
    fixture_stop(&f);
}

static void test_ctrl_mac_class(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    uint8_t buf[1024], mac[6];
    /* MAC_ADDR_SET: exactly 6 bytes. */
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 1, other_mac, 5), ==, QVNET_ERR);
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 1, buf, 7), ==, QVNET_ERR);
    uint8_t gen = qvirtio_config_generation(f.net->dev);
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 1, other_mac, 6), ==, QVNET_OK);
    qvnet_config_mac(f.net, mac);
    g_assert_cmpmem(mac, 6, other_mac, 6);
    g_assert_cmpuint(qvirtio_config_generation(f.net->dev), !=, gen);

    /* MAC_TABLE_SET. */
    const uint8_t uni[2][6] = {{0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}};
    const uint8_t multi[1][6] = {{0x01, 0, 0x5e, 0, 0, 9}};
    size_t len = mac_table(buf, uni, 2, multi, 1);
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 0, buf, len), ==, QVNET_OK);
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 0, buf, len + 1), ==, QVNET_ERR); /* trailing */
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 0, buf, len - 1), ==, QVNET_ERR); /* short */
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 0, buf, 3), ==, QVNET_ERR);
    uint32_t huge = 0x30000000; /* count * 6 overflows 32 bits */
    memcpy(buf, &huge, 4);
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 0, buf, len), ==, QVNET_ERR);
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 2, buf, 6), ==, QVNET_ERR); /* no such command */
    fixture_stop(&f);

    /* Without CTRL_MAC_ADDR: ERR, and the MAC stays. */
    fixture_start(&f, "", QVNET_ALL_FEATURES & ~QVNET_BIT(QVNET_F_CTRL_MAC_ADDR), true);
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 1, other_mac, 6), ==, QVNET_ERR);
    qvnet_config_mac(f.net, mac);
    g_assert_cmpmem(mac, 6, default_mac, 6);
    fixture_stop(&f);
}

static void test_ctrl_vlan_class(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    g_assert_cmpuint(vlan_cmd(f.net, 0, 100), ==, QVNET_OK);
    g_assert_cmpuint(vlan_cmd(f.net, 0, 4095), ==, QVNET_OK);
    g_assert_cmpuint(vlan_cmd(f.net, 0, 4096), ==, QVNET_ERR);
    g_assert_cmpuint(vlan_cmd(f.net, 1, 100), ==, QVNET_OK);
    g_assert_cmpuint(vlan_cmd(f.net, 2, 100), ==, QVNET_ERR);
    g_assert_cmpuint(ctrl1(f.net, 2, 0, 5), ==, QVNET_ERR); /* 1 byte */
    fixture_stop(&f);
    fixture_start(&f, "", QVNET_ALL_FEATURES & ~QVNET_BIT(QVNET_F_CTRL_VLAN), true);
    g_assert_cmpuint(vlan_cmd(f.net, 0, 100), ==, QVNET_ERR);
    fixture_stop(&f);
}

static void test_ctrl_other_classes(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    /* ANNOUNCE_ACK with nothing to acknowledge, or with data. */
    g_assert_cmpuint(qvnet_ctrl(f.net, 3, 0, NULL, 0), ==, QVNET_ERR);
    g_assert_cmpuint(ctrl1(f.net, 3, 0, 0), ==, QVNET_ERR);
    g_assert_cmpuint(qvnet_ctrl(f.net, 3, 1, NULL, 0), ==, QVNET_ERR);
    /* MQ (not offered), GUEST_OFFLOADS (not offered), unknown classes. */
    uint8_t pairs[2] = {1, 0};
    g_assert_cmpuint(qvnet_ctrl(f.net, 4, 0, pairs, 2), ==, QVNET_ERR);
    uint8_t offl[8] = {0};
    g_assert_cmpuint(qvnet_ctrl(f.net, 5, 0, offl, 8), ==, QVNET_ERR);
    g_assert_cmpuint(qvnet_ctrl(f.net, 99, 0, NULL, 0), ==, QVNET_ERR);
    g_assert_cmpuint(qvnet_ctrl(f.net, 255, 255, offl, 8), ==, QVNET_ERR);
    g_assert_cmpuint(qvirtio_get_status(f.net->dev) & QVIRTIO_S_NEEDS_RESET, ==, 0);
    fixture_stop(&f);
}

/* A command whose header and data are spread over descriptors differently still works. */
static void test_ctrl_split_layout(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    QVirtQueue *vq = f.net->ctrl;
    uint64_t a = qtest_alloc(f.qts, 8), ack = qtest_alloc(f.qts, 4);
    uint8_t cmd[8] = {1, 1, 0x02, 0x33, 0x44, 0x55, 0x66, 0x77}; /* MAC_ADDR_SET */
    qtest_memwrite(f.qts, a, cmd, 8);
    uint16_t head = qvirtqueue_add(vq, a, 1, false, true);
    qvirtqueue_add(vq, a + 1, 3, false, false);
    qvirtqueue_add(vq, a + 4, 4, false, false);
    qvirtqueue_add(vq, ack, 4, true, false);
    qvirtqueue_submit(vq, head);
    uint32_t id, len;
    qvirtqueue_wait_used(vq, &id, &len);
    g_assert_cmpuint(qtest_readb(f.qts, ack), ==, QVNET_OK);
    uint8_t mac[6];
    qvnet_config_mac(f.net, mac);
    g_assert_cmpmem(mac, 6, cmd + 2, 6);
    fixture_stop(&f);
}

/* ---- receive filter ----------------------------------------------------------------- */

/* Send `frame` then a marker the filter passes; true when `frame` arrived first. */
static bool passes(Fixture *f, const uint8_t *frame, size_t len)
{
    uint8_t marker[64], got[2048];
    size_t mlen = qvnet_build_frame(marker, f->marker_bcast ? bcast : default_mac, other_mac, 0,
                                    0x88b5, 40);
    qvnet_rx_post(f->net, QVNET_RX_BUF);
    qvnet_rx_post(f->net, QVNET_RX_BUF);
    qvnet_backend_send(f->backend, frame, len);
    qvnet_backend_send(f->backend, marker, mlen);
    size_t glen = qvnet_rx_wait(f->net, got, sizeof(got), NULL);
    if (glen == mlen && memcmp(got, marker, mlen) == 0) {
        return false;
    }
    g_assert_cmpmem(got, glen, frame, len);
    glen = qvnet_rx_wait(f->net, got, sizeof(got), NULL);
    g_assert_cmpmem(got, glen, marker, mlen);
    return true;
}

static bool passes_to(Fixture *f, const uint8_t *dst, uint16_t vlan)
{
    uint8_t frame[128];
    size_t len = qvnet_build_frame(frame, dst, other_mac, vlan, 0x0800, 64);
    return passes(f, frame, len);
}

static void test_rx_filter(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    /* Promiscuous until the driver says otherwise (QEMU's power-on state); then even a
     * frame shorter than an Ethernet header goes up, as QEMU delivers it (qos-test's
     * virtio-net basic path sends 5 bytes), and without promiscuity it does not. */
    g_assert_true(passes_to(&f, other_mac, 0));
    g_assert_true(passes(&f, (const uint8_t *)"TEST", 5));
    g_assert_cmpuint(ctrl1(f.net, 0, 0, 0), ==, QVNET_OK);
    g_assert_false(passes_to(&f, other_mac, 0));
    g_assert_false(passes(&f, (const uint8_t *)"TEST", 5));
    g_assert_true(passes_to(&f, default_mac, 0));
    g_assert_true(passes_to(&f, bcast, 0));
    g_assert_false(passes_to(&f, mcast, 0));

    /* Tables. */
    const uint8_t uni[1][6] = {{0x02, 0, 0, 0, 0, 7}};
    uint8_t buf[64];
    size_t len = mac_table(buf, uni, 1, (const uint8_t(*)[6])mcast, 1);
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 0, buf, len), ==, QVNET_OK);
    g_assert_true(passes_to(&f, uni[0], 0));
    g_assert_true(passes_to(&f, mcast, 0));
    g_assert_false(passes_to(&f, mcast2, 0));

    /* Modes. */
    g_assert_cmpuint(ctrl1(f.net, 0, 1, 1), ==, QVNET_OK); /* allmulti */
    g_assert_true(passes_to(&f, mcast2, 0));
    g_assert_cmpuint(ctrl1(f.net, 0, 3, 1), ==, QVNET_OK); /* nomulti wins */
    g_assert_false(passes_to(&f, mcast2, 0));
    g_assert_false(passes_to(&f, mcast, 0));
    g_assert_true(passes_to(&f, bcast, 0));
    g_assert_cmpuint(ctrl1(f.net, 0, 5, 1), ==, QVNET_OK); /* nobcast */
    g_assert_false(passes_to(&f, bcast, 0));
    g_assert_cmpuint(ctrl1(f.net, 0, 3, 0), ==, QVNET_OK);
    g_assert_cmpuint(ctrl1(f.net, 0, 5, 0), ==, QVNET_OK);
    g_assert_cmpuint(ctrl1(f.net, 0, 1, 0), ==, QVNET_OK);
    g_assert_cmpuint(ctrl1(f.net, 0, 2, 1), ==, QVNET_OK); /* alluni */
    g_assert_true(passes_to(&f, other_mac, 0));
    f.marker_bcast = true;
    g_assert_cmpuint(ctrl1(f.net, 0, 4, 1), ==, QVNET_OK); /* nouni wins */
    g_assert_false(passes_to(&f, default_mac, 0));
    g_assert_false(passes_to(&f, other_mac, 0));
    g_assert_cmpuint(ctrl1(f.net, 0, 4, 0), ==, QVNET_OK);
    g_assert_cmpuint(ctrl1(f.net, 0, 2, 0), ==, QVNET_OK);
    f.marker_bcast = false;
    g_assert_false(passes_to(&f, other_mac, 0));

    /* Unicast overflow: every unicast passes. */
    uint8_t big[4 + 65 * 6 + 4];
    uint32_t n65 = 65, zero = 0;
    memcpy(big, &n65, 4);
    memset(big + 4, 0x02, 65 * 6);
    memcpy(big + 4 + 65 * 6, &zero, 4);
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 0, big, sizeof(big)), ==, QVNET_OK);
    g_assert_true(passes_to(&f, other_mac, 0));

    /* VLANs: CTRL_VLAN negotiated, so tagged frames need their VID in the table. */
    g_assert_false(passes_to(&f, default_mac, 100));
    g_assert_cmpuint(vlan_cmd(f.net, 0, 100), ==, QVNET_OK);
    g_assert_true(passes_to(&f, default_mac, 100));
    g_assert_false(passes_to(&f, default_mac, 101));
    g_assert_true(passes_to(&f, default_mac, 0)); /* untagged always */
    g_assert_cmpuint(vlan_cmd(f.net, 1, 100), ==, QVNET_OK);
    g_assert_false(passes_to(&f, default_mac, 100));

    /* Promiscuous passes everything. */
    g_assert_cmpuint(ctrl1(f.net, 0, 0, 1), ==, QVNET_OK);
    g_assert_true(passes_to(&f, default_mac, 100));
    g_assert_true(passes_to(&f, bcast, 0));
    fixture_stop(&f);

    /* Without CTRL_VLAN every VLAN passes. */
    fixture_start(&f, "", QVNET_ALL_FEATURES & ~QVNET_BIT(QVNET_F_CTRL_VLAN), true);
    g_assert_cmpuint(ctrl1(f.net, 0, 0, 0), ==, QVNET_OK);
    g_assert_true(passes_to(&f, default_mac, 100));
    fixture_stop(&f);
}

/* ---- QMP ---------------------------------------------------------------------------- */

static JsonObject *rx_filter(QmpClient *q)
{
    g_autoptr(JsonNode) r = qmp_ok(q, "{'execute': 'query-rx-filter', 'arguments': "
                                      "{'name': 'nic0'}}");
    JsonArray *a = json_node_get_array(r);
    g_assert_cmpuint(json_array_get_length(a), ==, 1);
    return json_object_ref(json_array_get_object_element(a, 0));
}

static unsigned count_events(QmpClient *q, const char *name)
{
    /* Events sent before this reply are queued by then. */
    json_node_unref(qmp_ok(q, "{'execute': 'query-status'}"));
    unsigned n = 0;
    GList *evs = qmp_client_take_events(q);
    for (GList *l = evs; l; l = l->next) {
        JsonObject *ev = l->data;
        if (g_strcmp0(json_object_get_string_member(ev, "event"), name) == 0) {
            JsonObject *data = json_object_get_object_member(ev, "data");
            g_assert_cmpstr(json_object_get_string_member(data, "name"), ==, "nic0");
            g_assert_cmpstr(json_object_get_string_member(data, "path"), ==,
                            "/machine/peripheral/nic0/virtio-backend");
            n++;
        }
    }
    g_list_free_full(evs, (GDestroyNotify)json_object_unref);
    return n;
}

static void test_query_rx_filter(void)
{
    Fixture f;
    fixture_start(&f, "id=nic0", QVNET_ALL_FEATURES, true);
    QmpClient *q = qtest_qmp(f.qts);
    g_autoptr(JsonObject) a = rx_filter(q);
    g_assert_cmpstr(json_object_get_string_member(a, "name"), ==, "nic0");
    g_assert_true(json_object_get_boolean_member(a, "promiscuous"));
    g_assert_cmpstr(json_object_get_string_member(a, "main-mac"), ==, "52:54:00:12:34:56");
    g_assert_cmpstr(json_object_get_string_member(a, "unicast"), ==, "normal");
    g_assert_cmpstr(json_object_get_string_member(a, "vlan"), ==, "normal");
    g_assert_true(json_object_get_boolean_member(a, "broadcast-allowed"));
    g_assert_cmpuint(count_events(q, "NIC_RX_FILTER_CHANGED"), ==, 0);

    /* One event for the first change, none for the next until a query re-arms it. */
    g_assert_cmpuint(ctrl1(f.net, 0, 0, 0), ==, QVNET_OK);
    g_assert_cmpuint(ctrl1(f.net, 0, 1, 1), ==, QVNET_OK);
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 1, other_mac, 6), ==, QVNET_OK);
    g_assert_cmpuint(vlan_cmd(f.net, 0, 42), ==, QVNET_OK);
    g_assert_cmpuint(ctrl1(f.net, 0, 3, 1), ==, QVNET_OK);
    g_assert_cmpuint(ctrl1(f.net, 0, 5, 1), ==, QVNET_OK);
    const uint8_t uni[1][6] = {{0x02, 0, 0, 0, 0, 7}};
    uint8_t buf[64];
    size_t len = mac_table(buf, uni, 1, (const uint8_t(*)[6])mcast, 1);
    g_assert_cmpuint(qvnet_ctrl(f.net, 1, 0, buf, len), ==, QVNET_OK);
    g_assert_cmpuint(count_events(q, "NIC_RX_FILTER_CHANGED"), ==, 1);

    g_autoptr(JsonObject) b = rx_filter(q);
    g_assert_false(json_object_get_boolean_member(b, "promiscuous"));
    g_assert_cmpstr(json_object_get_string_member(b, "main-mac"), ==, "52:54:00:aa:bb:cc");
    g_assert_cmpstr(json_object_get_string_member(b, "multicast"), ==, "none");
    g_assert_false(json_object_get_boolean_member(b, "broadcast-allowed"));
    JsonArray *vt = json_object_get_array_member(b, "vlan-table");
    g_assert_cmpuint(json_array_get_length(vt), ==, 1);
    g_assert_cmpint(json_array_get_int_element(vt, 0), ==, 42);
    JsonArray *ut = json_object_get_array_member(b, "unicast-table");
    g_assert_cmpstr(json_array_get_string_element(ut, 0), ==, "02:00:00:00:00:07");
    JsonArray *mt = json_object_get_array_member(b, "multicast-table");
    g_assert_cmpstr(json_array_get_string_element(mt, 0), ==, "01:00:5e:00:00:01");

    g_assert_cmpuint(ctrl1(f.net, 0, 2, 1), ==, QVNET_OK);
    g_assert_cmpuint(count_events(q, "NIC_RX_FILTER_CHANGED"), ==, 1);
    /* A command answered ERR changes nothing and says nothing. */
    json_object_unref(rx_filter(q));
    g_assert_cmpuint(vlan_cmd(f.net, 0, 5000), ==, QVNET_ERR);
    g_assert_cmpuint(count_events(q, "NIC_RX_FILTER_CHANGED"), ==, 0);

    /* QEMU's errors. */
    qmp_assert_error(q, "GenericError", "invalid net client name: nope",
                     "{'execute': 'query-rx-filter', 'arguments': {'name': 'nope'}}");
    qmp_assert_error(q, "GenericError", "isn't a NIC",
                     "{'execute': 'query-rx-filter', 'arguments': {'name': 'n0'}}");
    fixture_stop(&f);
}

static void test_set_link(void)
{
    Fixture f;
    fixture_start(&f, "id=nic0", QVNET_ALL_FEATURES, true);
    QmpClient *q = qtest_qmp(f.qts);
    g_autoptr(JsonNode) r1 = qmp_ok(q, "{'execute': 'set_link', 'arguments': "
                                       "{'name': 'nic0', 'up': false}}");
    g_assert_true(qvirtio_take_config_irq(f.net->dev));
    g_assert_cmphex(qvnet_status(f.net), ==, 0);
    g_autoptr(JsonNode) r2 = qmp_ok(q, "{'execute': 'set_link', 'arguments': "
                                       "{'name': 'nic0', 'up': true}}");
    g_assert_true(qvirtio_take_config_irq(f.net->dev));
    g_assert_cmphex(qvnet_status(f.net), ==, QVNET_S_LINK_UP);
    /* No change, no interrupt. */
    g_autoptr(JsonNode) r3 = qmp_ok(q, "{'execute': 'set_link', 'arguments': "
                                       "{'name': 'nic0', 'up': true}}");
    g_assert_false(qvirtio_take_config_irq(f.net->dev));
    fixture_stop(&f);
}

/* With MSI-X off, interrupts are INTx driven by the ISR; reading the ISR lowers it. */
static void test_intx(void)
{
    int backend;
    QTestState *qts = qvnet_start("id=nic0", NULL, &backend);
    qtest_irq_intercept_in(qts, "ioapic");
    QVirtioDevice *d = qvirtio_pci_find(qts, QVNET_ID);
    int gsi = qpci_readb(d->pdev, 0x3c); /* the interrupt line the "BIOS" left */
    g_assert_true(qvirtio_negotiate(d, QVNET_ALL_FEATURES));
    QVirtQueue *rx = qvirtqueue_setup(d, 0, 0);
    qvirtio_driver_ok(d);
    g_assert_false(qtest_get_irq(qts, gsi));

    /* A config change: ISR bit 1. */
    json_node_unref(qmp_ok(qtest_qmp(qts), "{'execute': 'set_link', 'arguments': "
                                           "{'name': 'nic0', 'up': false}}"));
    g_assert_true(qtest_get_irq(qts, gsi));
    g_assert_cmphex(qvirtio_isr(d), ==, 2);
    g_assert_false(qtest_get_irq(qts, gsi));
    g_assert_cmphex(qvirtio_isr(d), ==, 0);
    json_node_unref(qmp_ok(qtest_qmp(qts), "{'execute': 'set_link', 'arguments': "
                                           "{'name': 'nic0', 'up': true}}"));
    g_assert_cmphex(qvirtio_isr(d), ==, 2);

    /* A used buffer: ISR bit 0. */
    uint64_t buf = qtest_alloc(qts, QVNET_RX_BUF);
    qvirtqueue_submit(rx, qvirtqueue_add(rx, buf, QVNET_RX_BUF, true, true));
    uint8_t frame[100];
    size_t len = qvnet_build_frame(frame, default_mac, other_mac, 0, 0x0800, 50);
    qvnet_backend_send(backend, frame, len);
    qvirtqueue_wait_used(rx, NULL, NULL);
    g_assert_true(qtest_get_irq(qts, gsi));
    g_assert_cmphex(qvirtio_isr(d), ==, 1);
    g_assert_false(qtest_get_irq(qts, gsi));
    g_free(rx);
    qvirtio_free(d);
    close(backend);
    qtest_quit(qts);
}

/* The PCI configuration access capability reaches the BAR through config space. */
static void test_pci_cfg_cap(void)
{
    QTestState *qts = qtest_init("-device virtio-net-pci");
    QVirtioDevice *d = qvirtio_pci_find(qts, QVNET_ID);
    uint8_t c = d->cfg_cap;
    g_assert_cmpuint(c, !=, 0);
    g_assert_cmpuint(qpci_readb(d->pdev, c + 2), ==, 20);
    /* device_feature_select = 1, through the window; then read device_feature. */
    qpci_writeb(d->pdev, c + 4, d->bar);
    qpci_writel(d->pdev, c + 8, d->common + 0x00);
    qpci_writel(d->pdev, c + 12, 4);
    qpci_writel(d->pdev, c + 16, 1);
    qpci_writel(d->pdev, c + 8, d->common + 0x04);
    g_assert_cmphex(qpci_readl(d->pdev, c + 16), ==, QVNET_ALL_FEATURES >> 32);
    /* The MAC through a 1-byte window on device config. */
    qpci_writel(d->pdev, c + 12, 1);
    qpci_writel(d->pdev, c + 8, d->device + 5);
    g_assert_cmphex(qpci_readb(d->pdev, c + 16), ==, 0x56);
    qvirtio_free(d);
    qtest_quit(qts);
}

/* ---- bad descriptors ---------------------------------------------------------------- */

typedef void BadChain(Fixture *f);

static void bad_tx_loop(Fixture *f)
{
    uint64_t a = qtest_alloc(f->qts, 64);
    qvirtqueue_desc(f->net->tx, 0, a, 64, QVIRTIO_DESC_F_NEXT, 1);
    qvirtqueue_desc(f->net->tx, 1, a, 64, QVIRTIO_DESC_F_NEXT, 0);
    qvirtqueue_submit(f->net->tx, 0);
}

static void bad_tx_out_of_ram(Fixture *f)
{
    qvirtqueue_desc(f->net->tx, 0, 0x7fff0000, 4096, 0, 0); /* 128 MiB of RAM */
    qvirtqueue_submit(f->net->tx, 0);
}

static void bad_tx_in_mmio(Fixture *f)
{
    qvirtqueue_desc(f->net->tx, 0, 0xfee00000, 64, 0, 0); /* the APIC, not RAM */
    qvirtqueue_submit(f->net->tx, 0);
}

static void bad_tx_writable(Fixture *f)
{
    uint64_t a = qtest_alloc(f->qts, 64);
    qvirtqueue_desc(f->net->tx, 0, a, 64, QVIRTIO_DESC_F_WRITE, 0);
    qvirtqueue_submit(f->net->tx, 0);
}

static void bad_tx_short(Fixture *f)
{
    uint64_t a = qtest_alloc(f->qts, 64);
    qvirtqueue_desc(f->net->tx, 0, a, 8, 0, 0); /* shorter than the virtio-net header */
    qvirtqueue_submit(f->net->tx, 0);
}

static void bad_tx_zero_len(Fixture *f)
{
    uint64_t a = qtest_alloc(f->qts, 64);
    qvirtqueue_desc(f->net->tx, 0, a, 0, 0, 0);
    qvirtqueue_submit(f->net->tx, 0);
}

static void bad_tx_avail_jump(Fixture *f)
{
    qvirtqueue_set_avail_idx(f->net->tx, 1000);
    qvirtqueue_kick(f->net->tx);
}

static void bad_tx_head(Fixture *f)
{
    qvirtqueue_submit(f->net->tx, 4000);
}

static void bad_tx_next(Fixture *f)
{
    uint64_t a = qtest_alloc(f->qts, 64);
    qvirtqueue_desc(f->net->tx, 0, a, 64, QVIRTIO_DESC_F_NEXT, 999);
    qvirtqueue_submit(f->net->tx, 0);
}

static void bad_tx_indirect_in_indirect(Fixture *f)
{
    uint64_t t = qtest_alloc_aligned(f->qts, 32, 16);
    qvirtio_write_desc(f->qts, t, 0, t, 32, QVIRTIO_DESC_F_INDIRECT, 0);
    qvirtqueue_desc(f->net->tx, 0, t, 32, QVIRTIO_DESC_F_INDIRECT, 0);
    qvirtqueue_submit(f->net->tx, 0);
}

static void bad_rx_readonly(Fixture *f)
{
    uint64_t a = qtest_alloc(f->qts, 2048);
    qvirtqueue_submit(f->net->rx, qvirtqueue_add(f->net->rx, a, 2048, false, true));
    uint8_t frame[100];
    size_t len = qvnet_build_frame(frame, default_mac, other_mac, 0, 0x0800, 50);
    qvnet_backend_send(f->backend, frame, len);
}

static void bad_ctrl_no_ack(Fixture *f)
{
    uint64_t a = qtest_alloc(f->qts, 8);
    qvirtqueue_submit(f->net->ctrl, qvirtqueue_add(f->net->ctrl, a, 3, false, true));
}

static void bad_ctrl_no_header(Fixture *f)
{
    uint64_t a = qtest_alloc(f->qts, 8);
    uint16_t h = qvirtqueue_add(f->net->ctrl, a, 1, false, true);
    qvirtqueue_add(f->net->ctrl, a + 4, 1, true, false);
    qvirtqueue_submit(f->net->ctrl, h);
}

static void bad_ring_outside_ram(Fixture *f)
{
    /* Reset and set a queue up with its table outside RAM. */
    QVirtioDevice *d = f->net->dev;
    g_assert_true(qvirtio_negotiate(d, QVNET_ALL_FEATURES));
    qvirtqueue_select(d, 0);
    qpci_io_writel(d->pdev, d->bar, d->common + 0x20, 0x7ffff000);
    qpci_io_writel(d->pdev, d->bar, d->common + 0x24, 0);
    qpci_io_writew(d->pdev, d->bar, d->common + 0x1c, 1);
}

typedef struct {
    BadChain *setup;
    const char *message; /* what tern must report (once) */
} BadCase;

static void test_bad(gconstpointer data)
{
    const BadCase *bc = data;
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    bc->setup(&f);
    /* Receive waits for tern to take the frame, transmit runs in the main loop after the
     * kick: wait for the verdict. */
    gint64 deadline = g_get_monotonic_time() + QVIRTIO_TIMEOUT_MS * 1000LL;
    while (!(qvirtio_get_status(f.net->dev) & QVIRTIO_S_NEEDS_RESET) &&
           g_get_monotonic_time() < deadline) {
        g_usleep(1000);
    }
    g_assert_cmphex(qvirtio_get_status(f.net->dev) & QVIRTIO_S_NEEDS_RESET, ==,
                    QVIRTIO_S_NEEDS_RESET);
    /* The driver hears about it through a config interrupt (once DRIVER_OK). */
    if (qvirtio_get_status(f.net->dev) & QVIRTIO_S_DRIVER_OK) {
        g_assert_true(qvirtio_take_config_irq(f.net->dev));
    }
    assert_alive(&f);
    g_autofree char *err = tern_proc_stderr(qtest_proc(f.qts));
    if (!strstr(err, bc->message)) {
        g_error("expected a report with '%s', tern said:\n%s", bc->message, err);
    }
    unsigned reports = 0;
    for (const char *p = err; (p = strstr(p, "guest error")); p++) {
        reports++;
    }
    g_assert_cmpuint(reports, ==, 1);
    /* After a reset the device works again. */
    qvnet_free(f.net);
    f.net = qvnet_init(f.qts, QVNET_ALL_FEATURES, true);
    assert_tx_passes(&f);
    fixture_stop(&f);
}

#define ADD_BAD(name, fn, msg)                                                                 \
    do {                                                                                       \
        static const BadCase bc = {fn, msg};                                                   \
        g_test_add_data_func("/virtio-net/bad/" name, &bc, test_bad);                          \
    } while (0)

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-net/pci-identity", test_pci_identity);
    g_test_add_func("/virtio-net/mac-property", test_mac_property);
    g_test_add_func("/virtio-net/features/default", test_features_default);
    g_test_add_func("/virtio-net/features/properties", test_feature_props);
    g_test_add_func("/virtio-net/features/refused", test_refused);
    g_test_add_func("/virtio-net/features/negotiation", test_negotiation);
    g_test_add_func("/virtio-net/tx", test_tx);
    g_test_add_func("/virtio-net/tx/over-4GiB", test_tx_over_4gib);
    g_test_add_func("/virtio-net/rx", test_rx);
    g_test_add_func("/virtio-net/rx/mergeable", test_rx_mergeable);
    g_test_add_func("/virtio-net/rx/too-small", test_rx_too_small);
    g_test_add_func("/virtio-net/rx/backpressure", test_rx_backpressure);
    g_test_add_func("/virtio-net/rx/before-driver-ok", test_rx_before_driver_ok);
    g_test_add_func("/virtio-net/ctrl/rx", test_ctrl_rx_class);
    g_test_add_func("/virtio-net/ctrl/mac", test_ctrl_mac_class);
    g_test_add_func("/virtio-net/ctrl/vlan", test_ctrl_vlan_class);
    g_test_add_func("/virtio-net/ctrl/other", test_ctrl_other_classes);
    g_test_add_func("/virtio-net/ctrl/split-layout", test_ctrl_split_layout);
    g_test_add_func("/virtio-net/rx-filter", test_rx_filter);
    g_test_add_func("/virtio-net/query-rx-filter", test_query_rx_filter);
    g_test_add_func("/virtio-net/set-link", test_set_link);
    g_test_add_func("/virtio-net/intx", test_intx);
    g_test_add_func("/virtio-net/pci-cfg-cap", test_pci_cfg_cap);
    ADD_BAD("tx-loop", bad_tx_loop, "loops or exceeds");
    ADD_BAD("tx-out-of-ram", bad_tx_out_of_ram, "outside guest RAM");
    ADD_BAD("tx-in-mmio", bad_tx_in_mmio, "outside guest RAM");
    ADD_BAD("tx-device-writable", bad_tx_writable, "device-writable");
    ADD_BAD("tx-shorter-than-header", bad_tx_short, "shorter than the header");
    ADD_BAD("tx-zero-length", bad_tx_zero_len, "zero-sized buffer");
    ADD_BAD("tx-avail-idx-jump", bad_tx_avail_jump, "available index 1000");
    ADD_BAD("tx-head-out-of-range", bad_tx_head, "head descriptor 4000 out of range");
    ADD_BAD("tx-next-out-of-range", bad_tx_next, "next index 999 out of range");
    ADD_BAD("tx-indirect-in-indirect", bad_tx_indirect_in_indirect,
            "indirect descriptor inside an indirect table");
    ADD_BAD("rx-read-only-buffer", bad_rx_readonly, "read-only or shorter than the header");
    ADD_BAD("ctrl-no-ack", bad_ctrl_no_ack, "no header or no ack buffer");
    ADD_BAD("ctrl-no-header", bad_ctrl_no_header, "no header or no ack buffer");
    ADD_BAD("ring-outside-ram", bad_ring_outside_ram, "ring outside guest RAM");
    return g_test_run();
}
