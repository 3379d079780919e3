/*
 * test-migration-devices.c: device state across a live migration between two tern
 * processes under qtest (`-machine pc`). The test is the guest's driver: it programs a
 * virtio-net NIC on the source (features, rx buffers, a full receive filter, a pending
 * announce), migrates, and carries on as the same driver on the destination, whose RAM
 * now holds the rings: the filter (VLAN table included, which QEMU 7.2 loses), the
 * config space and the ring indices must have arrived, the ACK must work, frames must
 * flow both ways. Also: the arrival announce (autostart, -S + cont, a guest without
 * GUEST_ANNOUNCE gets RARP, the age of learned addresses travels), a deferred announce
 * request, the refusals of a destination
 * configured differently, announcers that a new outgoing migration must end, and the
 * PCI layer (config space, BARs, MSI-X table and PBA, the host bridge) through
 * pci-testdev, and a virtio-mouse-pci (its config selector, status and statusq).
 *
 * Each NIC's netdev is a socket whose far end the test holds (qvnet_start).
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "bswap.h"
#include "../lib/qvirtio-input.h"
#include "../lib/qvirtio-net.h"
#include "migration-util.h"

#define MS 1000000LL

static const uint8_t default_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t new_mac[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
static const uint8_t uc1[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x11};
static const uint8_t uc2[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x12};
static const uint8_t mc1[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
static const uint8_t mc2[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};
static const uint8_t macvlan_mac[6] = {0x02, 0x42, 0x00, 0x00, 0x00, 0x07};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

#define NO_ANNOUNCE (QVNET_ALL_FEATURES & ~QVNET_BIT(QVNET_F_GUEST_ANNOUNCE))
#define LINK_UP QVNET_S_LINK_UP
#define ANNOUNCE QVNET_S_ANNOUNCE

/* One tern with a NIC, and the far end of its netdev. */
typedef struct {
    QTestState *qts;
    int backend;
    QmpClient *qmp;
} Side;

static void side_start(Side *s, const char *props, const char *extra)
{
    s->qts = qvnet_start(props, extra, &s->backend);
    s->qmp = qtest_qmp(s->qts);
}

/* A unix socket URI in src's directory. */
static char *mig_uri(QTestState *src, const char *name)
{
    g_autofree char *path = tern_proc_path(qtest_proc(src), name);
    return g_strdup_printf("unix:%s", path);
}

/* The destination for src's guest, listening on `uri`. */
static void dst_start(Side *d, const char *props, const char *uri, const char *extra)
{
    g_autofree char *args = g_strdup_printf("-incoming %s %s", uri, extra ? extra : "");
    side_start(d, props, args);
    mig_wait_listening(d->qmp);
}

/*
 * A source whose guest drives a NIC with `features`, and a destination listening for it;
 * after pair_migrate() the same driver goes on there (dn).
 */
typedef struct {
    Side src, dst;
    char *uri;
    QVirtioNet *sn, *dn;
} Pair;

typedef struct {
    const char *src_props, *dst_props; /* -device properties, "" for none */
    const char *dst_extra;             /* more destination arguments ("-S") */
    uint64_t features;
    bool driver_not_ok; /* stop before DRIVER_OK */
} PairConfig;

static void pair_start(Pair *p, const PairConfig *c)
{
    memset(p, 0, sizeof(*p));
    side_start(&p->src, c->src_props ? c->src_props : "", NULL);
    p->uri = mig_uri(p->src.qts, "mig.sock");
    dst_start(&p->dst, c->dst_props ? c->dst_props : "", p->uri, c->dst_extra);
    p->sn = qvnet_init(p->src.qts, c->features, !c->driver_not_ok);
}

/* Migrate to completion; the destination reaches `runstate`; the driver follows. */
static void pair_migrate(Pair *p, const char *runstate)
{
    g_autoptr(JsonObject) end = mig_migrate_until_end(p->src.qmp, p->uri, "completed");
    mig_assert_runstate(p->src.qmp, "postmigrate");
    mig_wait_runstate(p->dst.qmp, runstate);
    p->dn = qvnet_clone(p->sn, p->dst.qts);
}

static void pair_stop(Pair *p)
{
    qvnet_free(p->dn);
    qvnet_free(p->sn);
    g_free(p->uri);
    Side *sides[] = {&p->dst, &p->src};
    for (int i = 0; i < 2; i++) {
        close(sides[i]->backend);
        qtest_quit(sides[i]->qts);
    }
}

/* ---- the driver's side -------------------------------------------------------------- */

static void ctrl_ok(QVirtioNet *n, uint8_t cls, uint8_t cmd, const void *data, size_t len)
{
    g_assert_cmpuint(qvnet_ctrl(n, cls, cmd, data, len), ==, QVNET_OK);
}

static uint8_t ack(QVirtioNet *n)
{
    return qvnet_ctrl(n, 3, 0, NULL, 0);
}

static void rx_mode(QVirtioNet *n, uint8_t cmd, bool on)
{
    uint8_t v = on;
    ctrl_ok(n, 0, cmd, &v, 1);
}

static void vlan_add(QVirtioNet *n, uint16_t vid)
{
    uint8_t v[2] = {vid & 0xff, vid >> 8};
    ctrl_ok(n, 2, 0, v, 2);
}

/* Every receive-filter field away from its default: promiscuous off, allmulti and
 * nobcast on, a new MAC, a MAC table with unicast and multicast entries, three VLANs. */
static void program_filter(QVirtioNet *n)
{
    rx_mode(n, 0, false); /* promisc */
    rx_mode(n, 1, true);  /* allmulti */
    rx_mode(n, 5, true);  /* nobcast */
    ctrl_ok(n, 1, 1, new_mac, 6);
    uint8_t table[4 + 12 + 4 + 12];
    st_le32(table, 2);
    memcpy(table + 4, uc1, 6);
    memcpy(table + 10, uc2, 6);
    st_le32(table + 16, 2);
    memcpy(table + 20, mc1, 6);
    memcpy(table + 26, mc2, 6);
    ctrl_ok(n, 1, 0, table, sizeof(table));
    vlan_add(n, 10);
    vlan_add(n, 20);
    vlan_add(n, 4000);
}

static size_t frame_to(uint8_t *buf, const uint8_t dst[6], uint16_t vlan)
{
    return qvnet_build_frame(buf, dst, peer_mac, vlan, 0x0800, 46);
}

static void expect_rx(QVirtioNet *n, const uint8_t *want, size_t len)
{
    uint8_t got[2048];
    size_t l = qvnet_rx_wait(n, got, sizeof(got), NULL);
    g_assert_cmpmem(got, l, want, len);
}

/* Transmit a frame from `src` on `vlan`; it leaves on `wire`. */
static void tx_from(QVirtioNet *n, int wire, const uint8_t src[6], uint16_t vlan)
{
    uint8_t f[128];
    size_t len = qvnet_build_frame(f, peer_mac, src, vlan, 0x0800, 46);
    qvnet_tx(n, f, len);
    if (wire >= 0) {
        qvnet_backend_expect(wire, f, len);
    }
}

static void expect_silence(int fd)
{
    qvnet_backend_expect_none(fd, 100);
}

static char *rx_filter_json(Side *s)
{
    g_autoptr(JsonNode) r = qmp_ok(s->qmp, "{'execute': 'query-rx-filter'}");
    JsonArray *a = json_node_get_array(r);
    g_assert_cmpuint(json_array_get_length(a), ==, 1);
    return json_to_string(json_array_get_element(a, 0), FALSE);
}

static void announce_self(Side *s, int rounds)
{
    json_node_unref(qmp_ok(s->qmp,
                           "{'execute': 'announce-self', 'arguments': {'initial': 50, "
                           "'max': 550, 'rounds': %d, 'step': 100}}",
                           rounds));
}

static void qmp_void(Side *s, const char *cmd)
{
    json_node_unref(qmp_ok(s->qmp, "{'execute': '%s'}", cmd));
}

static void no_migration_announce(Side *s)
{
    json_node_unref(qmp_ok(s->qmp, "{'execute': 'migrate-set-parameters', "
                                   "'arguments': {'announce-rounds': 0}}"));
}

static void assert_mac(QVirtioNet *n, const uint8_t want[6])
{
    uint8_t mac[6];
    qvnet_config_mac(n, mac);
    g_assert_cmpmem(mac, 6, want, 6);
}

/* ---- virtio-net ------------------------------------------------------------------- */

/*
 * The full round trip: a driver with a programmed filter, a frame received and one sent
 * (learned), an announce the guest has not answered, migrates; on the destination the
 * same driver finds everything where it left it.
 */
static void test_virtio_net_round_trip(void)
{
    Pair p;
    /* Only the guest announces (announce_rarp=fallback): the wires carry the test's frames
     * alone. The default's RARP on arrival: test_virtio_net_arrival_both. */
    pair_start(&p, &(PairConfig){.src_props = "announce_rarp=fallback",
                                 .dst_props = "announce_rarp=fallback",
                                 .features = QVNET_ALL_FEATURES});
    QVirtioNet *sn = p.sn;
    for (int i = 0; i < 4; i++) {
        qvnet_rx_post(sn, QVNET_RX_BUF);
    }
    uint8_t f[128], g[128];
    size_t len = frame_to(f, default_mac, 0), glen;
    qvnet_backend_send(p.src.backend, f, len);
    expect_rx(sn, f, len);
    program_filter(sn);
    tx_from(sn, p.src.backend, macvlan_mac, 30);
    announce_self(&p.src, 1);
    g_assert_true(qvirtio_take_config_irq(sn->dev));
    g_assert_cmphex(qvnet_status(sn), ==, LINK_UP | ANNOUNCE);
    uint16_t rx_used = qvirtqueue_used_idx(sn->rx);
    g_assert_cmpuint(rx_used, ==, 1);
    g_autofree char *filter = rx_filter_json(&p.src);

    pair_migrate(&p, "running");
    QVirtioNet *dn = p.dn;
    int wire = p.dst.backend;

    /* The receive filter arrived whole, VLAN table included. */
    g_autofree char *dfilter = rx_filter_json(&p.dst);
    g_assert_cmpstr(dfilter, ==, filter);
    g_assert_nonnull(strstr(dfilter, "\"vlan-table\":[10,20,4000]"));
    g_assert_nonnull(strstr(dfilter, "\"promiscuous\":false"));
    g_assert_nonnull(strstr(dfilter, "\"broadcast-allowed\":false"));
    g_assert_nonnull(strstr(dfilter, "\"multicast\":\"all\""));
    g_assert_nonnull(strstr(dfilter, "\"unicast-table\":[\"02:00:00:00:00:11\","
                                     "\"02:00:00:00:00:12\"]"));
    g_assert_nonnull(strstr(dfilter, "\"main-mac\":\"52:54:00:aa:bb:cc\""));

    /* Config space as the guest left it, the announce still pending; on arrival the
     * guest is asked again (it may have answered on the old host already). */
    assert_mac(dn, new_mac);
    g_assert_cmphex(qvnet_status(dn), ==, LINK_UP | ANNOUNCE);
    g_assert_true(qvirtio_take_config_irq(dn->dev));
    g_assert_cmphex(qvirtio_get_status(dn->dev), ==,
                    QVIRTIO_S_ACKNOWLEDGE | QVIRTIO_S_DRIVER | QVIRTIO_S_FEATURES_OK |
                        QVIRTIO_S_DRIVER_OK);
    g_assert_cmpuint(qvirtio_num_queues(dn->dev), ==, 3);
    g_assert_cmpuint(ack(dn), ==, QVNET_OK);
    g_assert_cmphex(qvnet_status(dn), ==, LINK_UP);
    g_assert_cmpuint(ack(dn), ==, QVNET_ERR);
    g_assert_false(qvirtio_take_config_irq(dn->dev));

    /* Receive continues in the buffers posted on the source, at the index it had. */
    g_assert_cmpuint(qvirtqueue_used_idx(dn->rx), ==, rx_used);
    len = frame_to(f, new_mac, 0);
    qvnet_backend_send(wire, f, len);
    expect_rx(dn, f, len);
    g_assert_cmpuint(qvirtqueue_used_idx(dn->rx), ==, rx_used + 1);
    /* Each pair: the first frame is filtered out, the second arrives. The VLAN filter
     * (99 is not in the table, 20 is); nobcast against a MAC table entry; after two
     * buffers posted here, the old MAC against a multicast address (allmulti). */
    struct {
        const uint8_t *drop;
        uint16_t drop_vlan;
        const uint8_t *pass;
        uint16_t pass_vlan;
    } pairs[] = {
        {new_mac, 99, new_mac, 20},
        {bcast, 0, uc2, 0},
        {default_mac, 0, mc2, 0},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(pairs); i++) {
        if (i == 2) {
            qvnet_rx_post(dn, QVNET_RX_BUF);
            qvnet_rx_post(dn, QVNET_RX_BUF);
        }
        len = frame_to(f, pairs[i].drop, pairs[i].drop_vlan);
        qvnet_backend_send(wire, f, len);
        glen = frame_to(g, pairs[i].pass, pairs[i].pass_vlan);
        qvnet_backend_send(wire, g, glen);
        expect_rx(dn, g, glen);
    }
    g_assert_cmpuint(qvirtqueue_used_idx(dn->rx), ==, rx_used + 4);

    /* Transmit continues too, and only the destination's wire hears it. */
    tx_from(dn, wire, new_mac, 20);
    expect_silence(p.src.backend);
    pair_stop(&p);
}

/* A destination that has loaded but does not run: 2 s pass and its guest hears nothing,
 * its wire neither; `cont` is the arrival, and the guest is asked to announce. */
static void expect_arrival_at_cont(Pair *p)
{
    QVirtioNet *dn = p->dn;
    g_assert_cmphex(qvnet_status(dn), ==, LINK_UP);
    qtest_clock_step(p->dst.qts, 2000 * MS);
    g_assert_false(qvirtio_take_config_irq(dn->dev));
    g_assert_cmphex(qvnet_status(dn), ==, LINK_UP);
    expect_silence(p->dst.backend);

    qmp_void(&p->dst, "cont");
    mig_assert_runstate(p->dst.qmp, "running");
    g_assert_true(qvirtio_take_config_irq(dn->dev));
    g_assert_cmphex(qvnet_status(dn), ==, LINK_UP | ANNOUNCE);
}

/*
 * Destination started with -S: nothing reaches the guest until `cont`, then the arrival
 * announce does; a later stop/cont announces nothing.
 */
static void test_virtio_net_dst_paused(void)
{
    Pair p;
    pair_start(&p, &(PairConfig){.dst_props = "announce_rarp=fallback",
                                 .features = QVNET_ALL_FEATURES,
                                 .dst_extra = "-S"});
    pair_migrate(&p, "prelaunch-migrate");
    QVirtioNet *dn = p.dn;
    expect_arrival_at_cont(&p);
    expect_silence(p.dst.backend); /* fallback: the guest announces, no RARP */
    g_assert_cmpuint(ack(dn), ==, QVNET_OK);
    /* The next round follows the ACK (the destination's parameters: 50 ms). */
    qtest_clock_step(p.dst.qts, 50 * MS);
    g_assert_true(qvirtio_take_config_irq(dn->dev));
    g_assert_cmpuint(ack(dn), ==, QVNET_OK);

    /* Cancel the rest, then a plain stop/cont: no move, no announce. */
    announce_self(&p.dst, 0);
    qmp_void(&p.dst, "stop");
    qmp_void(&p.dst, "cont");
    qtest_clock_step(p.dst.qts, 2000 * MS);
    g_assert_false(qvirtio_take_config_irq(dn->dev));
    g_assert_cmphex(qvnet_status(dn), ==, LINK_UP);
    expect_silence(p.src.backend);
    pair_stop(&p);
}

/*
 * Source paused (`stop`) when it migrates: the destination loads into paused, as QEMU
 * does (the globalstate section), with or without -S, instead of starting the guest by
 * itself; nothing reaches the guest until `cont`, which is its arrival: the announce
 * comes then.
 */
static void test_virtio_net_src_paused(gconstpointer opaque)
{
    Pair p;
    pair_start(&p, &(PairConfig){.features = QVNET_ALL_FEATURES, .dst_extra = opaque});
    qmp_void(&p.src, "stop");
    pair_migrate(&p, "paused");
    expect_arrival_at_cont(&p);
    g_assert_cmpuint(ack(p.dn), ==, QVNET_OK);
    pair_stop(&p);
}

/* A guest that never negotiated GUEST_ANNOUNCE: the destination's VMM sends RARP for
 * every address it knows the guest uses (learned on the source), the bit is never set. */
static void test_virtio_net_no_guest_announce(void)
{
    Pair p;
    pair_start(&p, &(PairConfig){.features = NO_ANNOUNCE});
    ctrl_ok(p.sn, 1, 1, new_mac, 6);
    vlan_add(p.sn, 10);
    tx_from(p.sn, p.src.backend, macvlan_mac, 30);
    pair_migrate(&p, "running");
    int wire = p.dst.backend;
    /* Round 1, at once: the current MAC, the MAC on its VLAN, the learned address. */
    qvnet_backend_expect_rarp(wire, new_mac, 0);
    qvnet_backend_expect_rarp(wire, new_mac, 10);
    qvnet_backend_expect_rarp(wire, macvlan_mac, 30);
    expect_silence(wire);
    expect_silence(p.src.backend);
    g_assert_cmphex(qvnet_status(p.dn), ==, LINK_UP);
    g_assert_false(qvirtio_take_config_irq(p.dn->dev));
    /* Round 2 after `initial` (50 ms). */
    qtest_clock_step(p.dst.qts, 50 * MS);
    qvnet_backend_expect_rarp(wire, new_mac, 0);
    g_assert_cmphex(qvnet_status(p.dn), ==, LINK_UP);
    pair_stop(&p);
}

/*
 * The default on arrival: RARP for every (MAC, VLAN) the device knows, at once and before
 * the guest is asked, and the guest asked too. The guest does not ACK: its request
 * stands, and the VMM's rounds still leave at t0, +50, +200, +450, +800 ms of the
 * destination's virtual clock, and at no other time. A late ACK paces the guest's rounds.
 */
static void test_virtio_net_arrival_both(void)
{
    Pair p;
    pair_start(&p, &(PairConfig){.features = QVNET_ALL_FEATURES});
    vlan_add(p.sn, 10);
    pair_migrate(&p, "running");
    int wire = p.dst.backend;
    int64_t t0 = qtest_clock_step(p.dst.qts, 0);
    static const int64_t at[] = {0, 50, 200, 450, 800};
    for (int k = 0; k < 5; k++) {
        if (k) {
            qtest_clock_step(p.dst.qts, (at[k] - at[k - 1] - 1) * MS);
            expect_silence(wire);
            g_assert_cmpint(qtest_clock_step(p.dst.qts, MS) - t0, ==, at[k] * MS);
        }
        qvnet_backend_expect_rarp(wire, default_mac, 0);
        qvnet_backend_expect_rarp(wire, default_mac, 10);
        expect_silence(wire);
        g_assert(qvirtio_take_config_irq(p.dn->dev) == (k == 0));
        g_assert_cmphex(qvnet_status(p.dn), ==, LINK_UP | ANNOUNCE);
    }
    qtest_clock_step(p.dst.qts, 10000 * MS);
    expect_silence(wire);
    expect_silence(p.src.backend);
    g_assert_false(qvirtio_take_config_irq(p.dn->dev));
    g_assert_cmpuint(ack(p.dn), ==, QVNET_OK);
    qtest_clock_step(p.dst.qts, 49 * MS);
    g_assert_false(qvirtio_take_config_irq(p.dn->dev));
    qtest_clock_step(p.dst.qts, 1 * MS);
    g_assert_true(qvirtio_take_config_irq(p.dn->dev));
    expect_silence(wire);
    pair_stop(&p);
}

/*
 * The age of a learned address travels: seen 6 s before the move, with an ageing time of
 * 10 s, it is announced on arrival and no longer 4 s and 1 ms later. Had the age been lost
 * (seen "now" on arrival) it would still be announced then.
 */
static void test_virtio_net_learned_age(void)
{
    Pair p;
    pair_start(&p, &(PairConfig){.src_props = "announce_ageing=10",
                                 .dst_props = "announce_ageing=10",
                                 .features = NO_ANNOUNCE});
    json_node_unref(qmp_ok(p.dst.qmp, "{'execute': 'migrate-set-parameters', "
                                      "'arguments': {'announce-rounds': 1}}"));
    tx_from(p.sn, p.src.backend, macvlan_mac, 30);
    qtest_clock_step(p.src.qts, 6000 * MS);
    pair_migrate(&p, "running");
    int wire = p.dst.backend;
    qvnet_backend_expect_rarp(wire, default_mac, 0);
    qvnet_backend_expect_rarp(wire, macvlan_mac, 30);
    expect_silence(wire);
    qtest_clock_step(p.dst.qts, 4000 * MS);
    announce_self(&p.dst, 1);
    qvnet_backend_expect_rarp(wire, default_mac, 0);
    qvnet_backend_expect_rarp(wire, macvlan_mac, 30);
    qtest_clock_step(p.dst.qts, 1 * MS);
    announce_self(&p.dst, 1);
    qvnet_backend_expect_rarp(wire, default_mac, 0);
    expect_silence(wire);
    pair_stop(&p);
}

/*
 * A request made before the driver was ready travels with the device: the destination
 * (told not to announce by itself) asks the guest when its driver sets DRIVER_OK.
 */
static void test_virtio_net_deferred_request(void)
{
    Pair p;
    pair_start(&p, &(PairConfig){.features = QVNET_ALL_FEATURES, .driver_not_ok = true});
    no_migration_announce(&p.dst);
    announce_self(&p.src, 1);
    qvnet_backend_expect_rarp(p.src.backend, default_mac, 0); /* the VMM covers the gap */
    pair_migrate(&p, "running");
    QVirtioNet *dn = p.dn;
    expect_silence(p.dst.backend);
    g_assert_false(qvirtio_take_config_irq(dn->dev));
    qvirtio_driver_ok(dn->dev);
    g_assert_true(qvirtio_take_config_irq(dn->dev));
    g_assert_cmphex(qvnet_status(dn), ==, LINK_UP | ANNOUNCE);
    g_assert_cmpuint(ack(dn), ==, QVNET_OK);
    pair_stop(&p);
}

/*
 * The guest queues its ACK while the source is stopped: a stopped VM serves no control
 * command (its RAM may already be on its way), the destination answers it when it
 * runs, before its arrival announce asks afresh.
 */
static void test_virtio_net_ctrl_while_stopped(void)
{
    Pair p;
    pair_start(&p, &(PairConfig){.features = QVNET_ALL_FEATURES});
    QVirtioNet *sn = p.sn;
    announce_self(&p.src, 1);
    g_assert_true(qvirtio_take_config_irq(sn->dev));
    qmp_void(&p.src, "stop");
    QVnetCtrlReq req = qvnet_ctrl_submit(sn, 3, 0, NULL, 0);
    g_assert_cmpuint(qvirtqueue_used_idx(sn->ctrl), ==, 0);
    g_assert_cmphex(qtest_readb(p.src.qts, req.ack), ==, 0xee);
    g_assert_cmphex(qvnet_status(sn), ==, LINK_UP | ANNOUNCE);

    pair_migrate(&p, "paused"); /* as the source was */
    QVirtioNet *dn = p.dn;
    g_assert_cmpuint(qvirtqueue_used_idx(dn->ctrl), ==, 0);
    qmp_void(&p.dst, "cont");
    g_assert_cmpuint(qvnet_ctrl_wait(dn, req), ==, QVNET_OK);
    /* ... and the arrival announce is a new request, with its own interrupt. */
    g_assert_true(qvirtio_take_config_irq(dn->dev));
    g_assert_cmphex(qvnet_status(dn), ==, LINK_UP | ANNOUNCE);
    g_assert_cmpuint(ack(dn), ==, QVNET_OK);
    /* The source never answered it. */
    g_assert_cmpuint(qvirtqueue_used_idx(sn->ctrl), ==, 0);
    pair_stop(&p);
}

/* The link as the guest saw it: set_link off on the source, the destination's guest
 * still sees it down, and nothing leaves until the destination's link comes up. */
static void test_virtio_net_link_down(void)
{
    Pair p;
    PairConfig c = {.src_props = "id=nic0", .dst_props = "id=nic0", .features = NO_ANNOUNCE};
    pair_start(&p, &c);
    json_node_unref(qmp_ok(p.src.qmp, "{'execute': 'set_link', 'arguments': "
                                      "{'name': 'nic0', 'up': false}}"));
    g_assert_cmphex(qvnet_status(p.sn), ==, 0);
    pair_migrate(&p, "running");
    g_assert_cmphex(qvnet_status(p.dn), ==, 0);
    tx_from(p.dn, -1, default_mac, 0);
    expect_silence(p.dst.backend);
    json_node_unref(qmp_ok(p.dst.qmp, "{'execute': 'set_link', 'arguments': "
                                      "{'name': 'nic0', 'up': true}}"));
    g_assert_cmphex(qvnet_status(p.dn), ==, LINK_UP);
    tx_from(p.dn, p.dst.backend, default_mac, 0);
    pair_stop(&p);
}

/* Offered on the destination but never negotiated on the source: that loads. */
/* ---- virtio-mouse-pci ------------------------------------------------------------ */

#define MOUSE_ARGS "-machine pc -device virtio-mouse-pci,id=dev0,addr=5"

static QVirtQueue *queue_on(const QVirtQueue *q, QVirtioDevice *d)
{
    QVirtQueue *c = g_memdup2(q, sizeof(*q));
    c->dev = d;
    return c;
}

/* The driver's selector, the status and the rings arrive; statusq goes on working. */
static void test_virtio_mouse_round_trip(void)
{
    QTestState *src = qtest_init(MOUSE_ARGS);
    g_autofree char *uri = mig_uri(src, "mig.sock");
    g_autofree char *dargs = g_strdup_printf(MOUSE_ARGS " -incoming %s", uri);
    QTestState *dst = qtest_init(dargs);
    mig_wait_listening(qtest_qmp(dst));

    QVirtioDevice *sd = qvirtio_pci_find(src, QVINPUT_ID);
    g_assert_nonnull(sd);
    QVirtQueue *sev, *sst;
    qvinput_init(sd, &sev, &sst);
    qvinput_send_status(src, sst);
    qvirtio_config_writeb(sd, 0, 0x11); /* EV_BITS */
    qvirtio_config_writeb(sd, 1, 2);    /* EV_REL */
    g_assert_cmpuint(qvirtio_config_readb(sd, 2), ==, 2);

    g_autoptr(JsonObject) end = mig_migrate_until_end(qtest_qmp(src), uri, "completed");
    mig_wait_runstate(qtest_qmp(dst), "running");
    QVirtioDevice *dd = qvirtio_clone(sd, dst);
    qtest_alloc_continue(dst, src);
    QVirtQueue *dst_st = queue_on(sst, dd);
    g_assert_cmphex(qvirtio_get_status(dd), ==,
                    QVIRTIO_S_ACKNOWLEDGE | QVIRTIO_S_DRIVER | QVIRTIO_S_FEATURES_OK |
                        QVIRTIO_S_DRIVER_OK);
    g_assert_cmpuint(qvirtio_config_readb(dd, 0), ==, 0x11);
    g_assert_cmpuint(qvirtio_config_readb(dd, 1), ==, 2);
    g_assert_cmpuint(qvirtio_config_readb(dd, 2), ==, 2);
    g_assert_cmphex(qvirtio_config_readb(dd, 8), ==, 0x03); /* REL_X, REL_Y */
    g_assert_cmpuint(qvirtqueue_used_idx(dst_st), ==, 1);
    qvinput_send_status(dst, dst_st);
    g_assert_cmpuint(qvirtqueue_used_idx(dst_st), ==, 2);

    g_free(dst_st);
    g_free(sev);
    g_free(sst);
    qvirtio_free(dd);
    qvirtio_free(sd);
    qtest_quit(dst);
    qtest_quit(src);
}

static void test_feature_offered_only_here(void)
{
    Pair p;
    pair_start(&p, &(PairConfig){.src_props = "guest_announce=off", .features = NO_ANNOUNCE});
    pair_migrate(&p, "running");
    qvnet_backend_expect_rarp(p.dst.backend, default_mac, 0);
    pair_stop(&p);
}

/* ---- refusals ------------------------------------------------------------------------ */

/* A destination that refuses: exit 1 naming `why`; the source says it and runs on. */
static void assert_refused(QTestState *src, QTestState *dst, const char *uri, const char *why)
{
    g_autoptr(JsonObject) end = mig_migrate_until_end(qtest_qmp(src), uri, "failed");
    const char *desc = json_object_get_string_member(end, "error-desc");
    if (!strstr(desc, "the destination refused the stream: ") || !strstr(desc, why)) {
        g_error("source says: %s (expected '%s')", desc, why);
    }
    mig_assert_runstate(qtest_qmp(src), "running");
    mig_assert_dst_failed(dst, why);
}

/*
 * The source's guest drives a NIC with `src_props` and `features`; the destination has
 * `dst_props` (NULL: no NIC at all). Refused with `why`, and the source's NIC still
 * works afterwards.
 */
static void refuse(const char *src_props, uint64_t features, const char *dst_props,
                   const char *why)
{
    Side src, dst = {.backend = -1};
    side_start(&src, src_props, NULL);
    g_autofree char *uri = mig_uri(src.qts, "refuse.sock");
    if (dst_props) {
        dst_start(&dst, dst_props, uri, NULL);
    } else {
        dst.qts = qtest_initf("-incoming %s", uri);
        mig_wait_listening(qtest_qmp(dst.qts));
    }
    QVirtioNet *sn = qvnet_init(src.qts, features, true);
    qvnet_rx_post(sn, QVNET_RX_BUF);
    assert_refused(src.qts, dst.qts, uri, why);
    if (dst.backend >= 0) {
        close(dst.backend);
    }
    uint8_t f[128];
    size_t len = frame_to(f, default_mac, 0);
    qvnet_backend_send(src.backend, f, len);
    expect_rx(sn, f, len);
    qvnet_free(sn);
    close(src.backend);
    qtest_quit(src.qts);
}

static void test_refuse_no_nic(void)
{
    refuse("", QVNET_ALL_FEATURES, NULL,
           "section '0000:00:01.0/virtio-net' (instance 0): unknown section");
}

static void test_refuse_feature_not_offered(void)
{
    refuse("", QVNET_ALL_FEATURES, "guest_announce=off",
           "section '0000:00:01.0/virtio-net' (instance 0): field 'virtio.guest_features': "
           "the guest negotiated guest_announce (bit 21), which this side does not offer");
}

static void test_refuse_queue_count(void)
{
    refuse("", NO_ANNOUNCE,
           "ctrl_vq=off,ctrl_rx=off,ctrl_vlan=off,ctrl_rx_extra=off,guest_announce=off,"
           "ctrl_mac_addr=off",
           "field 'virtio.num_queues': configuration mismatch: the stream has 3, this side 2");
}

static void test_refuse_queue_size(void)
{
    refuse("rx_queue_size=1024", QVNET_ALL_FEATURES, "",
           "field 'virtio.vq[0]': queue 0 has 1024 entries, this side offers at most 256");
}

/* The source has no NIC, the destination has one: its section never comes. */
static void test_refuse_missing_section(void)
{
    QTestState *src = qtest_init("");
    g_autofree char *uri = mig_uri(src, "missing.sock");
    Side dst;
    dst_start(&dst, "", uri, NULL);
    assert_refused(src, dst.qts, uri,
                   "section '0000:00:01.0/virtio-net' (instance 0): missing from the stream");
    close(dst.backend);
    qtest_quit(src);
}

/* A copy of `data` with the big-endian value `v` (`size` bytes) at `at`, as a file. */
static void write_patched(const char *path, const char *data, gsize len, size_t at, uint64_t v,
                          int size)
{
    g_autofree char *copy = g_memdup2(data, len);
    for (int i = 0; i < size; i++) {
        copy[at + i] = v >> (8 * (size - 1 - i));
    }
    g_assert_true(g_file_set_contents(path, copy, len, NULL));
}

/*
 * A hostile stream gets nothing from the learned addresses' ages: a count other than the
 * learned count, one beyond the table, an age beyond 2^32 s each refuse the stream, named;
 * the same stream untouched loads.
 */
static void test_refuse_learned_age(void)
{
    Side src, dst;
    side_start(&src, "", NULL);
    QVirtioNet *sn = qvnet_init(src.qts, NO_ANNOUNCE, true);
    tx_from(sn, src.backend, macvlan_mac, 30);
    g_autofree char *file = tern_proc_path(qtest_proc(src.qts), "stream.bin");
    g_autofree char *out = g_strdup_printf("exec:cat > %s", file);
    g_autoptr(JsonObject) end = mig_migrate_until_end(src.qmp, out, "completed");
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(file, &data, &len, NULL));
    static const char name[] = "virtio-net/learned-age";
    const char *sub = memmem(data, len, name, strlen(name));
    g_assert_nonnull(sub);
    size_t count_at = sub - data + strlen(name) + 8; /* after its version and length */
    static const struct {
        size_t field; /* 0: the count, 1: the first age */
        uint64_t value;
        const char *why;
    } bad[] = {
        {0, 0, "0 ages for 1 learned addresses"},
        {0, 257, "exceeds capacity 256"},
        {1, UINT64_MAX, "learned address 0 is 18446744073709551615 ms old"},
    };
    g_autofree char *patched = tern_proc_path(qtest_proc(src.qts), "bad.bin");
    g_autofree char *in = g_strdup_printf("-incoming 'exec:cat %s'", patched);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        write_patched(patched, data, len, count_at + 4 * bad[i].field, bad[i].value,
                      bad[i].field ? 8 : 4);
        side_start(&dst, "", in);
        mig_assert_dst_failed(dst.qts, bad[i].why);
        close(dst.backend);
    }
    g_assert_true(g_file_set_contents(patched, data, len, NULL));
    side_start(&dst, "", in);
    mig_wait_runstate(dst.qmp, "running");
    close(dst.backend);
    qtest_quit(dst.qts);
    qvnet_free(sn);
    close(src.backend);
    qtest_quit(src.qts);
}

/* ---- announcers and a new outgoing migration (FACTS.md edge case 13) --------------- */

/*
 * Rounds announce where the VM is: once it has moved, the source must send nothing,
 * whether it was running (the stop into finish-migrate ends them) or already paused (the
 * start of the migration must end them, or `cont` after it would resume them).
 */
static void test_migration_ends_announcers(gconstpointer opaque)
{
    bool paused = GPOINTER_TO_INT(opaque);
    Pair p;
    /* fallback: the rounds run on the virtual clock, which the test steps. */
    pair_start(&p,
               &(PairConfig){.src_props = "announce_rarp=fallback", .features = NO_ANNOUNCE});
    no_migration_announce(&p.dst);
    int wire = p.src.backend;
    if (paused) {
        qmp_void(&p.src, "stop");
    }
    announce_self(&p.src, 5);
    qvnet_backend_expect_rarp(wire, default_mac, 0);
    qtest_clock_step(p.src.qts, 50 * MS);
    qvnet_backend_expect_rarp(wire, default_mac, 0); /* rounds are running */
    pair_migrate(&p, paused ? "paused" : "running");
    for (int i = 0; i < 4; i++) {
        qtest_clock_step(p.src.qts, 500 * MS);
    }
    expect_silence(wire);
    qmp_void(&p.src, "cont");
    mig_assert_runstate(p.src.qmp, "running");
    for (int i = 0; i < 4; i++) {
        qtest_clock_step(p.src.qts, 500 * MS);
    }
    expect_silence(wire);
    g_autoptr(JsonNode) r = qmp_ok(p.src.qmp, "{'execute': 'query-announce'}");
    JsonObject *info = json_array_get_object_element(json_node_get_array(r), 0);
    g_assert_false(json_object_get_boolean_member(info, "active"));
    g_assert_cmpint(json_object_get_int_member(info, "frames-sent"), ==, 2);
    pair_stop(&p);
}

/* ---- the PCI layer: pci-testdev ----------------------------------------------------- */

#define TESTDEV_SCRATCH 0x00
#define TESTDEV_MAGIC 0x04
#define TESTDEV_MSIX 0x08
#define TESTDEV_INTX 0x0c
#define TESTDEV_DMA_LO 0x10
#define TESTDEV_DMA_HI 0x14
#define TESTDEV_DMA_GO 0x18
#define TESTDEV_DMA_STATUS 0x1c

/* Config space, BARs where the driver put them, MSI-X table and a pending bit in the
 * PBA, the INTx level, device registers, and the host bridge's address latch. */
static void test_pci_testdev(void)
{
    QTestState *src = qtest_init("-device pci-testdev,addr=4");
    g_autofree char *uri = mig_uri(src, "pci.sock");
    QTestState *dst = qtest_initf("-device pci-testdev,addr=4 -incoming %s", uri);
    mig_wait_listening(qtest_qmp(dst));

    QPCIBus sbus;
    qpci_init(&sbus, src);
    QPCIDevice *sd = qpci_device_find(&sbus, 0x1b36, 0x0005);
    g_assert_nonnull(sd);
    uint64_t bar0 = qpci_iomap(sd, 0);
    qpci_iomap(sd, 1);
    qpci_msix_enable(sd);
    qpci_io_writel(sd, 0, TESTDEV_SCRATCH, 0x12345678);
    for (int i = 0; i < 16; i++) {
        qpci_io_writeb(sd, 1, i, 0xa0 + i);
    }
    qpci_msix_set_vector_mask(sd, 1, true);
    qpci_io_writel(sd, 0, TESTDEV_MSIX, 1);
    g_assert_true(qpci_msix_pending(sd, 1));
    g_assert_false(qpci_msix_take(sd, 1));
    qpci_io_writel(sd, 0, TESTDEV_INTX, 1);
    uint8_t config[256];
    for (int i = 0; i < 256; i += 4) {
        uint32_t v = qpci_readl(sd, i);
        memcpy(config + i, &v, 4);
    }
    g_assert_cmphex(config[0x06] & 0x08, ==, 0x08); /* interrupt status */
    /* The driver is between selecting a register and reading it. */
    qtest_outl(src, 0xcf8, 0x80000000u | sd->devfn << 8);

    g_autoptr(JsonObject) end = mig_migrate_until_end(qtest_qmp(src), uri, "completed");
    mig_wait_runstate(qtest_qmp(dst), "running");

    g_assert_cmphex(qtest_inl(dst, 0xcfc), ==, 0x00051b36);
    QPCIBus dbus = sbus;
    dbus.qts = dst;
    QPCIDevice dd = *sd;
    dd.bus = &dbus;
    for (int i = 0; i < 256; i += 4) {
        uint32_t v = qpci_readl(&dd, i), w;
        memcpy(&w, config + i, 4);
        if (v != w) {
            g_error("config dword 0x%02x: 0x%08x on the source, 0x%08x here", i, w, v);
        }
    }
    /* The BARs decode where the driver placed them. */
    g_assert_cmphex(qtest_readl(dst, bar0 + TESTDEV_MAGIC), ==, 0x54534554);
    g_assert_cmphex(qpci_io_readl(&dd, 0, TESTDEV_SCRATCH), ==, 0x12345678);
    for (int i = 0; i < 16; i++) {
        g_assert_cmphex(qpci_io_readb(&dd, 1, i), ==, 0xa0 + i);
    }
    /* MSI-X: the pending vector goes out when unmasked here; others as usual. */
    g_assert_true(qpci_msix_pending(&dd, 1));
    qpci_msix_set_vector_mask(&dd, 1, false);
    g_assert_true(qpci_msix_take(&dd, 1));
    g_assert_false(qpci_msix_pending(&dd, 1));
    qpci_io_writel(&dd, 0, TESTDEV_MSIX, 0);
    g_assert_true(qpci_msix_take(&dd, 0));
    /* Bus-master DMA still enabled. */
    uint64_t buf = qtest_alloc(dst, 4);
    qpci_io_writel(&dd, 0, TESTDEV_DMA_LO, (uint32_t)buf);
    qpci_io_writel(&dd, 0, TESTDEV_DMA_HI, buf >> 32);
    qpci_io_writel(&dd, 0, TESTDEV_DMA_GO, 1);
    g_assert_cmpuint(qpci_io_readl(&dd, 0, TESTDEV_DMA_STATUS), ==, 1);
    g_assert_cmphex(qtest_readl(dst, buf), ==, 0x12345678);
    g_free(sd);
    qtest_quit(dst);
    qtest_quit(src);
}

/* A device whose read-only configuration differs: refused, naming the field. */
static void test_pci_testdev_refused(void)
{
    QTestState *src = qtest_init("-device pci-testdev,addr=4");
    g_autofree char *uri = mig_uri(src, "pci-bad.sock");
    QTestState *dst = qtest_initf("-device pci-testdev,addr=4,vectors=8 -incoming %s", uri);
    mig_wait_listening(qtest_qmp(dst));
    assert_refused(src, dst, uri,
                   "section '0000:00:04.0/pci-testdev' (instance 0): field "
                   "'pci.msix.msix.nvectors': configuration mismatch: the stream has 4, "
                   "this side 8");
    qtest_quit(src);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/migration-devices/virtio-net/round-trip", test_virtio_net_round_trip);
    g_test_add_func("/migration-devices/virtio-mouse/round-trip", test_virtio_mouse_round_trip);
    g_test_add_func("/migration-devices/virtio-net/dst-paused", test_virtio_net_dst_paused);
    g_test_add_data_func("/migration-devices/virtio-net/src-paused", NULL,
                         test_virtio_net_src_paused);
    g_test_add_data_func("/migration-devices/virtio-net/src-paused-dst-S", "-S",
                         test_virtio_net_src_paused);
    g_test_add_func("/migration-devices/virtio-net/no-guest-announce",
                    test_virtio_net_no_guest_announce);
    g_test_add_func("/migration-devices/virtio-net/arrival-both", test_virtio_net_arrival_both);
    g_test_add_func("/migration-devices/virtio-net/learned-age", test_virtio_net_learned_age);
    g_test_add_func("/migration-devices/virtio-net/deferred-request",
                    test_virtio_net_deferred_request);
    g_test_add_func("/migration-devices/virtio-net/link-down", test_virtio_net_link_down);
    g_test_add_func("/migration-devices/virtio-net/ctrl-while-stopped",
                    test_virtio_net_ctrl_while_stopped);
    g_test_add_func("/migration-devices/virtio-net/feature-offered-only-here",
                    test_feature_offered_only_here);
    g_test_add_func("/migration-devices/refuse/no-nic", test_refuse_no_nic);
    g_test_add_func("/migration-devices/refuse/feature-not-offered",
                    test_refuse_feature_not_offered);
    g_test_add_func("/migration-devices/refuse/queue-count", test_refuse_queue_count);
    g_test_add_func("/migration-devices/refuse/queue-size", test_refuse_queue_size);
    g_test_add_func("/migration-devices/refuse/missing-section", test_refuse_missing_section);
    g_test_add_func("/migration-devices/refuse/learned-age", test_refuse_learned_age);
    g_test_add_data_func("/migration-devices/announce/ends-on-migration/running",
                         GINT_TO_POINTER(0), test_migration_ends_announcers);
    g_test_add_data_func("/migration-devices/announce/ends-on-migration/paused",
                         GINT_TO_POINTER(1), test_migration_ends_announcers);
    g_test_add_func("/migration-devices/pci-testdev", test_pci_testdev);
    g_test_add_func("/migration-devices/pci-testdev-refused", test_pci_testdev_refused);
    return g_test_run();
}
