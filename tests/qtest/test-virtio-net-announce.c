/*
 * test-virtio-net-announce.c: the guest announce of virtio-net and the VMM-side fallback,
 * under qtest with only clock_step moving time: the S_ANNOUNCE bit and its config
 * interrupt (an MSI-X message in guest RAM), the ACK, ERR for an ACK nobody asked for,
 * reset, DRIVER_OK deferral, a guest that never ACKs, announce-self on top of a pending
 * request, RARP frames for a guest without the feature (byte-exact, tagged for learned
 * VLANs), the ageing of learned addresses, and the exact timeline of both kinds of
 * rounds.
 */
#include <string.h>
#include <unistd.h>
#include "../lib/qvirtio-net.h"

#define MS 1000000LL

static const uint8_t default_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t new_mac[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
static const uint8_t macvlan_mac[6] = {0x02, 0x42, 0x00, 0x00, 0x00, 0x07};
static const uint8_t table_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x09};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

#define NO_ANNOUNCE (QVNET_ALL_FEATURES & ~QVNET_BIT(QVNET_F_GUEST_ANNOUNCE))

typedef struct {
    QTestState *qts;
    int backend;
    QVirtioNet *net;
    QmpClient *qmp;
} Fixture;

static void fixture_start(Fixture *f, const char *props, uint64_t features, bool driver_ok)
{
    f->qts = qvnet_start(props, NULL, &f->backend);
    f->net = qvnet_init(f->qts, features, driver_ok);
    f->qmp = qtest_qmp(f->qts);
}

static void fixture_stop(Fixture *f)
{
    qvnet_free(f->net);
    close(f->backend);
    qtest_quit(f->qts);
}

static void announce_self(Fixture *f, int rounds, const char *id)
{
    g_autofree char *idarg = id ? g_strdup_printf(", 'id': '%s'", id) : g_strdup("");
    json_node_unref(qmp_ok(f->qmp,
                           "{'execute': 'announce-self', 'arguments': {'initial': 50, "
                           "'max': 550, 'rounds': %d, 'step': 100%s}}",
                           rounds, idarg));
}

static bool announce_bit(Fixture *f)
{
    return qvnet_status(f->net) & QVNET_S_ANNOUNCE;
}

static uint8_t ack(Fixture *f)
{
    return qvnet_ctrl(f->net, 3, 0, NULL, 0);
}

static bool config_irq(Fixture *f)
{
    return qvirtio_take_config_irq(f->net->dev);
}

static void assert_rarp(Fixture *f, const uint8_t mac[6], uint16_t vlan)
{
    qvnet_backend_expect_rarp(f->backend, mac, vlan);
}

static void assert_no_frame(Fixture *f)
{
    qvnet_backend_expect_none(f->backend, 50);
}

static JsonObject *query_announce(Fixture *f)
{
    g_autoptr(JsonNode) r = qmp_ok(f->qmp, "{'execute': 'query-announce'}");
    JsonArray *a = json_node_get_array(r);
    g_assert_cmpuint(json_array_get_length(a), ==, 1);
    return json_object_ref(json_array_get_object_element(a, 0));
}

/* query-announce's history: `want` is the expected kinds in order, e.g. "irq ack irq";
 * each mark's n counts its kind, rarp rounds carry `frames`, times never go back. */
static void assert_history(Fixture *f, const char *want, int64_t frames_per_rarp)
{
    g_autoptr(JsonObject) info = query_announce(f);
    JsonArray *h = json_object_get_array_member(info, "history");
    g_auto(GStrv) kinds = g_strsplit(want, " ", -1);
    g_assert_cmpuint(json_array_get_length(h), ==, g_strv_length(kinds));
    int64_t last_us = 0, seen_irq = 0, seen_ack = 0, seen_rarp = 0;
    for (guint i = 0; i < json_array_get_length(h); i++) {
        JsonObject *m = json_array_get_object_element(h, i);
        const char *kind = json_object_get_string_member(m, "kind");
        g_assert_cmpstr(kind, ==, kinds[i]);
        int64_t *count = !strcmp(kind, "irq")   ? &seen_irq
                         : !strcmp(kind, "ack") ? &seen_ack
                                                : &seen_rarp;
        g_assert_cmpint(json_object_get_int_member(m, "n"), ==, ++*count);
        if (!strcmp(kind, "rarp")) {
            g_assert_cmpint(json_object_get_int_member(m, "frames"), ==, frames_per_rarp);
        } else {
            g_assert_false(json_object_has_member(m, "frames"));
        }
        int64_t us = json_object_get_int_member(m, "wall-us");
        g_assert_cmpint(us, >=, last_us);
        last_us = us;
    }
    g_assert_cmpint(llabs(g_get_real_time() - last_us), <, 60 * G_USEC_PER_SEC);
}

/* ---- the guest half ----------------------------------------------------------------- */

static void test_bit_irq_ack(void)
{
    Fixture f;
    fixture_start(&f, "announce_rarp=fallback", QVNET_ALL_FEATURES, true);
    g_assert_false(config_irq(&f));
    uint8_t gen = qvirtio_config_generation(f.net->dev);
    announce_self(&f, 1, NULL);
    g_assert_true(config_irq(&f));
    g_assert_true(announce_bit(&f));
    g_assert_cmpuint(qvirtio_config_generation(f.net->dev), !=, gen);
    g_assert_cmphex(qvnet_status(f.net) & QVNET_S_LINK_UP, ==, QVNET_S_LINK_UP);
    assert_no_frame(&f); /* fallback: the guest announces, no RARP from the VMM */

    /* The ACK: OK, and by the time the buffer is used the bit is clear. */
    g_assert_cmpuint(ack(&f), ==, QVNET_OK);
    g_assert_false(announce_bit(&f));
    g_assert_false(config_irq(&f)); /* clearing the bit is no news for the guest */
    /* An ACK nobody asked for. */
    g_assert_cmpuint(ack(&f), ==, QVNET_ERR);
    g_autoptr(JsonObject) info = query_announce(&f);
    g_assert_cmpstr(json_object_get_string_member(info, "mode"), ==, "guest");
    g_assert_cmpint(json_object_get_int_member(info, "guest-irqs"), ==, 1);
    g_assert_cmpint(json_object_get_int_member(info, "guest-acks"), ==, 1);
    fixture_stop(&f);
}

static void test_reset_cancels(void)
{
    Fixture f;
    fixture_start(&f, "announce_rarp=fallback", QVNET_ALL_FEATURES, true);
    announce_self(&f, 5, NULL);
    g_assert_true(config_irq(&f));
    g_assert_true(announce_bit(&f));
    /* The driver goes away (unload, reboot) and comes back. */
    qvnet_free(f.net);
    f.net = qvnet_init(f.qts, QVNET_ALL_FEATURES, true);
    g_assert_false(announce_bit(&f));
    g_assert_false(config_irq(&f));
    for (int i = 0; i < 10; i++) {
        qtest_clock_step(f.qts, 1000 * MS);
    }
    g_assert_false(config_irq(&f));
    g_assert_false(announce_bit(&f));
    g_assert_cmpuint(ack(&f), ==, QVNET_ERR);
    g_autoptr(JsonObject) info = query_announce(&f);
    g_assert_false(json_object_get_boolean_member(info, "active"));
    assert_no_frame(&f);
    fixture_stop(&f);
}

/* A request while the driver is still probing: nothing reaches the guest until
 * DRIVER_OK (Linux can hang otherwise); the VMM's frames cover the gap. */
static void test_driver_ok_deferral(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, false);
    announce_self(&f, 1, NULL);
    assert_rarp(&f, default_mac, 0);
    g_assert_false(announce_bit(&f));
    qtest_clock_step(f.qts, 1000 * MS);
    g_assert_false(announce_bit(&f));
    g_assert_false(config_irq(&f));
    /* The driver's own reset before probing does not forget the request. */
    g_assert_true(qvirtio_negotiate(f.net->dev, QVNET_ALL_FEATURES));
    qvnet_free(f.net);
    f.net = qvnet_init(f.qts, QVNET_ALL_FEATURES, false);
    g_assert_false(config_irq(&f));
    qvirtio_driver_ok(f.net->dev);
    g_assert_true(config_irq(&f));
    g_assert_true(announce_bit(&f));
    g_assert_cmpuint(ack(&f), ==, QVNET_OK);
    g_assert_false(announce_bit(&f));
    fixture_stop(&f);
}

/* A deferred request for a driver that then comes up without the feature: dropped. */
static void test_deferral_without_feature(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, false);
    announce_self(&f, 1, NULL);
    assert_rarp(&f, default_mac, 0);
    qvnet_free(f.net);
    f.net = qvnet_init(f.qts, NO_ANNOUNCE, true);
    g_assert_false(config_irq(&f));
    g_assert_false(announce_bit(&f));
    fixture_stop(&f);
}

static void test_no_ack(void)
{
    Fixture f;
    fixture_start(&f, "announce_rarp=fallback", QVNET_ALL_FEATURES, true);
    announce_self(&f, 5, NULL);
    g_assert_true(config_irq(&f));
    for (int i = 0; i < 100; i++) {
        qtest_clock_step(f.qts, 100 * MS);
        g_assert_false(config_irq(&f));
    }
    g_assert_true(announce_bit(&f));
    assert_no_frame(&f);
    g_autoptr(JsonObject) info = query_announce(&f);
    g_assert_true(json_object_get_boolean_member(info, "awaiting-ack"));
    g_assert_cmpint(json_object_get_int_member(info, "guest-irqs"), ==, 1);
    g_autofree char *st = qmp_status(f.qmp);
    g_assert_cmpstr(st, ==, "running");
    fixture_stop(&f);
}

/* announce-self while the guest still owes an ACK: no second interrupt, no storm. */
static void test_overlap(void)
{
    Fixture f;
    fixture_start(&f, "announce_rarp=fallback", QVNET_ALL_FEATURES, true);
    announce_self(&f, 5, NULL);
    g_assert_true(config_irq(&f));
    for (int i = 0; i < 20; i++) {
        announce_self(&f, 5, NULL);
        announce_self(&f, 3, "other");
    }
    g_assert_false(config_irq(&f));
    assert_no_frame(&f);
    /* The ACK answers the pending request; the newest announcer paces what follows. */
    g_assert_cmpuint(ack(&f), ==, QVNET_OK);
    qtest_clock_step(f.qts, 49 * MS);
    g_assert_false(config_irq(&f));
    qtest_clock_step(f.qts, 1 * MS);
    g_assert_true(config_irq(&f));
    g_assert_false(config_irq(&f));
    fixture_stop(&f);
}

/* ---- the VMM half ------------------------------------------------------------------- */

static void test_no_feature_rarp(void)
{
    Fixture f;
    fixture_start(&f, "", NO_ANNOUNCE, true);
    announce_self(&f, 1, NULL);
    assert_rarp(&f, default_mac, 0);
    assert_no_frame(&f);
    g_assert_false(config_irq(&f));
    g_assert_false(announce_bit(&f));
    g_assert_cmpuint(ack(&f), ==, QVNET_ERR);
    fixture_stop(&f);
}

/* A device that does not even offer it. */
static void test_not_offered_rarp(void)
{
    Fixture f;
    fixture_start(&f, "guest_announce=off", NO_ANNOUNCE, true);
    announce_self(&f, 1, NULL);
    assert_rarp(&f, default_mac, 0);
    g_assert_false(config_irq(&f));
    fixture_stop(&f);
}

/* The default, and announce_rarp=always said explicitly: the VMM's RARP and the guest's
 * own announce, both at once; the frame leaves first, the guest is asked right after. */
static void test_default_both(void)
{
    static const char *const props[] = {"", "announce_rarp=always"};
    for (size_t i = 0; i < G_N_ELEMENTS(props); i++) {
        Fixture f;
        fixture_start(&f, props[i], QVNET_ALL_FEATURES, true);
        announce_self(&f, 1, NULL);
        assert_rarp(&f, default_mac, 0);
        g_assert_true(config_irq(&f));
        g_assert_true(announce_bit(&f));
        assert_no_frame(&f);
        g_assert_cmpuint(ack(&f), ==, QVNET_OK);
        g_assert_false(announce_bit(&f));
        assert_history(&f, "rarp irq ack", 1);
        g_autoptr(JsonObject) info = query_announce(&f);
        g_assert_false(json_object_get_boolean_member(info, "active"));
        g_assert_cmpstr(json_object_get_string_member(info, "mode"), ==, "guest");
        fixture_stop(&f);
    }
}

/*
 * announce-self on a paused VM: its RARP rounds run on the realtime clock, as QEMU's, so
 * all five go out while the virtual clock stands still; the guest is asked once (it
 * answers when it runs) and its next round waits for the virtual clock. With
 * announce_rarp=fallback the guest's rounds alone: nothing leaves while paused.
 */
static void test_self_paused_realtime(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    json_node_unref(qmp_ok(f.qmp, "{'execute': 'stop'}"));
    int64_t t0 = qtest_clock_step(f.qts, 0);
    announce_self(&f, 5, NULL);
    for (int k = 0; k < 5; k++) {
        assert_rarp(&f, default_mac, 0); /* each waits up to QVIRTIO_TIMEOUT_MS, real time */
    }
    qvnet_backend_expect_none(f.backend, 1000);
    g_assert_cmpint(qtest_clock_step(f.qts, 0), ==, t0);
    g_autofree char *st = qmp_status(f.qmp);
    g_assert_cmpstr(st, ==, "paused");
    g_assert_true(config_irq(&f));
    g_assert_false(config_irq(&f));
    assert_history(&f, "rarp irq rarp rarp rarp rarp", 1);
    g_autoptr(JsonObject) info = query_announce(&f);
    g_assert_true(json_object_get_boolean_member(info, "awaiting-ack"));
    fixture_stop(&f);

    fixture_start(&f, "announce_rarp=fallback", QVNET_ALL_FEATURES, true);
    json_node_unref(qmp_ok(f.qmp, "{'execute': 'stop'}"));
    announce_self(&f, 5, NULL);
    g_assert_true(config_irq(&f));
    qvnet_backend_expect_none(f.backend, 1000);
    fixture_stop(&f);
}

/* The guest transmits one frame from `src` on `vlan`; it reaches the wire. */
static void guest_sends_from(Fixture *f, const uint8_t src[6], uint16_t vlan)
{
    uint8_t frame[128], got[128];
    size_t len = qvnet_build_frame(frame, bcast, src, vlan, 0x0806, 28);
    qvnet_tx(f->net, frame, len);
    g_assert_cmpint(qvnet_backend_recv(f->backend, got, sizeof(got), QVIRTIO_TIMEOUT_MS), ==,
                    len);
}

/* The guest's receive filter: table_mac in its MAC table, VLAN 100 in its VLAN filter. */
static void guest_programs_filter(Fixture *f)
{
    uint8_t table[4 + 6 + 4];
    uint32_t one = 1, zero = 0;
    memcpy(table, &one, 4);
    memcpy(table + 4, table_mac, 6);
    memcpy(table + 10, &zero, 4);
    g_assert_cmpuint(qvnet_ctrl(f->net, 1, 0, table, sizeof(table)), ==, QVNET_OK);
    uint8_t vid[2] = {100, 0};
    g_assert_cmpuint(qvnet_ctrl(f->net, 2, 0, vid, 2), ==, QVNET_OK);
}

/* What the guest set up and transmitted from: the MAC it set, its MAC table, its VLAN
 * filter, and (source, VLAN) pairs from its frames. */
static void guest_uses_addresses(Fixture *f)
{
    g_assert_cmpuint(qvnet_ctrl(f->net, 1, 1, new_mac, 6), ==, QVNET_OK);
    guest_programs_filter(f);
    guest_sends_from(f, macvlan_mac, 200);
    guest_sends_from(f, new_mac, 0);
}

static void test_learned(void)
{
    Fixture f;
    fixture_start(&f, "", NO_ANNOUNCE, true);
    guest_uses_addresses(&f);
    announce_self(&f, 1, NULL);
    /* The current MAC first, then the table, the VLAN filter and what was learned;
     * (new_mac, untagged) is sent once although it is known twice. */
    assert_rarp(&f, new_mac, 0);
    assert_rarp(&f, table_mac, 0);
    assert_rarp(&f, new_mac, 100);
    assert_rarp(&f, macvlan_mac, 200);
    assert_no_frame(&f);
    /* query-rx-filter agrees on the MAC. */
    g_autoptr(JsonNode) r = qmp_ok(f.qmp, "{'execute': 'query-rx-filter'}");
    JsonObject *o = json_array_get_object_element(json_node_get_array(r), 0);
    g_assert_cmpstr(json_object_get_string_member(o, "main-mac"), ==, "52:54:00:aa:bb:cc");
    fixture_stop(&f);
}

static void test_learned_off(void)
{
    Fixture f;
    fixture_start(&f, "announce_learned=off", NO_ANNOUNCE, true);
    guest_uses_addresses(&f);
    announce_self(&f, 1, NULL);
    assert_rarp(&f, default_mac, 0); /* QEMU's behaviour: the command-line MAC only */
    assert_no_frame(&f);
    fixture_stop(&f);
}

/* The learned table keeps the 256 most recently seen (MAC, VLAN) pairs. */
static void test_learned_bounded(void)
{
    Fixture f;
    fixture_start(&f, "", NO_ANNOUNCE, true);
    uint8_t frame[64], got[128];
    for (int i = 0; i < 300; i++) {
        uint8_t src[6] = {0x02, 0x99, 0, 0, i >> 8, i & 0xff};
        size_t len = qvnet_build_frame(frame, bcast, src, 0, 0x0806, 28);
        qvnet_tx(f.net, frame, len);
        g_assert_cmpint(qvnet_backend_recv(f.backend, got, sizeof(got), QVIRTIO_TIMEOUT_MS), ==,
                        len);
    }
    announce_self(&f, 1, NULL);
    assert_rarp(&f, default_mac, 0);
    unsigned n = 0;
    bool seen[300] = {false};
    ssize_t len;
    while ((len = qvnet_backend_recv(f.backend, got, sizeof(got), 200)) > 0) {
        g_assert_cmpint(len, ==, 60);
        g_assert_cmphex(got[7], ==, 0x99);
        int i = got[10] << 8 | got[11];
        g_assert_cmpint(i, >=, 44); /* the 44 oldest went out */
        g_assert_false(seen[i]);
        seen[i] = true;
        n++;
    }
    g_assert_cmpuint(n, ==, 256);
    fixture_stop(&f);
}

/* One announce round; `want` is every (MAC, VLAN) expected, in order, and no more. */
typedef struct {
    const uint8_t *mac;
    uint16_t vlan;
} Addr;

static void assert_announced(Fixture *f, const Addr *want, size_t n)
{
    announce_self(f, 1, NULL);
    for (size_t i = 0; i < n; i++) {
        assert_rarp(f, want[i].mac, want[i].vlan);
    }
    assert_no_frame(f);
}

/*
 * Learned addresses age on the guest's (virtual) clock: one the guest has not sent from
 * for longer than announce_ageing is not announced (a VRRP MAC that moved to another VM
 * stays there), unless the guest's MAC table and VLAN filter still name it; a new frame
 * makes it young again. The current MAC, the table and the filter never age.
 */
static void test_ageing(void)
{
    Fixture f;
    fixture_start(&f, "announce_ageing=10", NO_ANNOUNCE, true);
    guest_programs_filter(&f);
    guest_sends_from(&f, macvlan_mac, 200); /* named by nothing */
    guest_sends_from(&f, table_mac, 100);   /* table and filter name it */
    guest_sends_from(&f, table_mac, 300);   /* the table names the MAC, not VLAN 300 */
    const Addr fixed[] = {{default_mac, 0}, {table_mac, 0}, {default_mac, 100}};
    const Addr all[] = {fixed[0],           fixed[1],         fixed[2],
                        {macvlan_mac, 200}, {table_mac, 100}, {table_mac, 300}};
    const Addr named[] = {fixed[0], fixed[1], fixed[2], {table_mac, 100}};
    qtest_clock_step(f.qts, 10000 * MS); /* exactly the ageing time: still announced */
    assert_announced(&f, all, G_N_ELEMENTS(all));
    qtest_clock_step(f.qts, 1 * MS);
    assert_announced(&f, named, G_N_ELEMENTS(named));
    guest_sends_from(&f, macvlan_mac, 200); /* back in use */
    const Addr again[] = {fixed[0], fixed[1], fixed[2], {macvlan_mac, 200}, {table_mac, 100}};
    assert_announced(&f, again, G_N_ELEMENTS(again));
    fixture_stop(&f);

    /* The default: 300 s, the Linux bridge's FDB ageing time. */
    fixture_start(&f, "", NO_ANNOUNCE, true);
    guest_sends_from(&f, macvlan_mac, 200);
    qtest_clock_step(f.qts, 300000 * MS);
    assert_announced(&f, (const Addr[]){{default_mac, 0}, {macvlan_mac, 200}}, 2);
    qtest_clock_step(f.qts, 1 * MS);
    assert_announced(&f, (const Addr[]){{default_mac, 0}}, 1);
    fixture_stop(&f);
}

/* ---- the timelines (Done when) ------------------------------------------------------ */

static void test_timeline_guest(void)
{
    Fixture f;
    fixture_start(&f, "announce_rarp=fallback", QVNET_ALL_FEATURES, true);
    int64_t t0 = qtest_clock_step(f.qts, 0);
    announce_self(&f, 5, NULL);
    g_assert_true(config_irq(&f)); /* round 1 at t0 */
    int64_t now = t0;
    static const int64_t round_at[] = {0, 50, 200, 450, 800}; /* ACKs come at once */
    for (int k = 1; k < 5; k++) {
        g_assert_true(announce_bit(&f));
        g_assert_cmpuint(ack(&f), ==, QVNET_OK);
        g_assert_false(announce_bit(&f));
        int64_t gap = round_at[k] - round_at[k - 1]; /* initial + (k-1) * step */
        now = qtest_clock_step(f.qts, (gap - 1) * MS);
        g_assert_false(config_irq(&f));
        now = qtest_clock_step(f.qts, 1 * MS);
        g_assert_cmpint(now - t0, ==, round_at[k] * MS);
        g_assert_true(config_irq(&f));
        g_assert_false(config_irq(&f));
    }
    g_assert_cmpuint(ack(&f), ==, QVNET_OK);
    g_autoptr(JsonObject) ev =
        qmp_client_wait_event(f.qmp, "ANNOUNCE_COMPLETED", QVIRTIO_TIMEOUT_MS, NULL);
    g_assert_nonnull(ev);
    assert_history(&f, "irq ack irq ack irq ack irq ack irq ack", 0);
    qtest_clock_step(f.qts, 10000 * MS);
    g_assert_false(config_irq(&f));
    g_assert_false(announce_bit(&f));
    assert_no_frame(&f);
    fixture_stop(&f);
}

/* A slow guest: each round counts from its ACK, not from the previous round. */
static void test_timeline_guest_slow_ack(void)
{
    Fixture f;
    fixture_start(&f, "", QVNET_ALL_FEATURES, true);
    announce_self(&f, 2, NULL);
    g_assert_true(config_irq(&f));
    qtest_clock_step(f.qts, 300 * MS); /* the guest takes 300 ms */
    g_assert_false(config_irq(&f));
    g_assert_cmpuint(ack(&f), ==, QVNET_OK);
    qtest_clock_step(f.qts, 49 * MS);
    g_assert_false(config_irq(&f));
    qtest_clock_step(f.qts, 1 * MS);
    g_assert_true(config_irq(&f));
    fixture_stop(&f);
}

static void test_timeline_rarp(void)
{
    Fixture f;
    fixture_start(&f, "announce_rarp=fallback", NO_ANNOUNCE, true);
    int64_t t0 = qtest_clock_step(f.qts, 0);
    announce_self(&f, 5, NULL);
    assert_rarp(&f, default_mac, 0);
    assert_no_frame(&f);
    static const int64_t at[] = {0, 50, 200, 450, 800};
    for (int k = 1; k < 5; k++) {
        int64_t now = qtest_clock_step(f.qts, (at[k] - at[k - 1] - 1) * MS);
        assert_no_frame(&f);
        now = qtest_clock_step(f.qts, 1 * MS);
        g_assert_cmpint(now - t0, ==, at[k] * MS);
        assert_rarp(&f, default_mac, 0);
        assert_no_frame(&f);
    }
    assert_history(&f, "rarp rarp rarp rarp rarp", 1);
    qtest_clock_step(f.qts, 10000 * MS);
    assert_no_frame(&f);
    g_assert_false(config_irq(&f));
    fixture_stop(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-net/announce/bit-irq-ack", test_bit_irq_ack);
    g_test_add_func("/virtio-net/announce/reset-cancels", test_reset_cancels);
    g_test_add_func("/virtio-net/announce/driver-ok-deferral", test_driver_ok_deferral);
    g_test_add_func("/virtio-net/announce/deferral-without-feature",
                    test_deferral_without_feature);
    g_test_add_func("/virtio-net/announce/no-ack", test_no_ack);
    g_test_add_func("/virtio-net/announce/overlap", test_overlap);
    g_test_add_func("/virtio-net/announce/no-feature-rarp", test_no_feature_rarp);
    g_test_add_func("/virtio-net/announce/not-offered-rarp", test_not_offered_rarp);
    g_test_add_func("/virtio-net/announce/default-both", test_default_both);
    g_test_add_func("/virtio-net/announce/self-paused-realtime", test_self_paused_realtime);
    g_test_add_func("/virtio-net/announce/learned", test_learned);
    g_test_add_func("/virtio-net/announce/learned-off", test_learned_off);
    g_test_add_func("/virtio-net/announce/learned-bounded", test_learned_bounded);
    g_test_add_func("/virtio-net/announce/ageing", test_ageing);
    g_test_add_func("/virtio-net/announce/timeline-guest", test_timeline_guest);
    g_test_add_func("/virtio-net/announce/timeline-guest-slow-ack",
                    test_timeline_guest_slow_ack);
    g_test_add_func("/virtio-net/announce/timeline-rarp", test_timeline_rarp);
    return g_test_run();
}
