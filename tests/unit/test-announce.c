/*
 * test-announce.c: announce parameters and their bounds, the round schedule, byte-exact
 * RARP frames, and the announcers on a manual virtual clock: RARP rounds at t0, +50,
 * +200, +450, +800 ms; guest rounds paced by ACKs; named announcers, the interfaces
 * filter, cancellation, the runstate trigger; and the QMP commands on top.
 */
#include <string.h>
#include "error.h"
#include "main-loop.h"
#include "migration/migration-params.h"
#include "monitor/qmp.h"
#include "net/announce.h"
#include "runstate.h"

#define MS NS_PER_MS

/* A backend that records every frame with the virtual time it arrived. */
typedef struct {
    NetClientState *nc;
    GPtrArray *frames; /* GByteArray * */
    GArray *times;     /* int64_t ns */
} Sink;

/* A NIC with an optional guest-announce hook. */
typedef struct {
    NetClientState *nc;
    Sink *sink;
    bool guest; /* the hook takes the announce */
    GArray *hook_times;
    GArray *addrs; /* NetAnnounceAddr, for announce_addresses; NULL: no callback result */
} Nic;

static ssize_t sink_receive(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    Sink *s = nc->opaque;
    GByteArray *b = g_byte_array_new();
    for (int i = 0; i < iovcnt; i++) {
        g_byte_array_append(b, iov[i].iov_base, iov[i].iov_len);
    }
    g_ptr_array_add(s->frames, b);
    int64_t now = clock_get_ns(TERN_CLOCK_VIRTUAL);
    g_array_append_val(s->times, now);
    return b->len;
}

static const NetClientInfo sink_info = {
    .kind = NET_CLIENT_BACKEND, .type = "sink", .receive = sink_receive};

static ssize_t nic_receive(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    return -1;
}

static bool nic_announce(NetClientState *nc)
{
    Nic *n = nc->opaque;
    int64_t now = clock_get_ns(TERN_CLOCK_VIRTUAL);
    g_array_append_val(n->hook_times, now);
    if (n->guest) {
        announce_note_guest_irq(nc);
    }
    return n->guest;
}

static void nic_addresses(NetClientState *nc, GArray *out)
{
    Nic *n = nc->opaque;
    if (n->addrs) {
        g_array_append_vals(out, n->addrs->data, n->addrs->len);
    }
}

static const NetClientInfo nic_plain_info = {
    .kind = NET_CLIENT_NIC, .type = "plain-nic", .receive = nic_receive};

static const NetClientInfo nic_hook_info = {
    .kind = NET_CLIENT_NIC,
    .type = "hook-nic",
    .receive = nic_receive,
    .announce = nic_announce,
    .announce_addresses = nic_addresses,
};

static Nic *nic_new(const char *name, bool hook, uint8_t last)
{
    Nic *n = g_new0(Nic, 1);
    n->hook_times = g_array_new(FALSE, FALSE, sizeof(int64_t));
    n->nc = net_client_new(hook ? &nic_hook_info : &nic_plain_info, name, n);
    uint8_t mac[ETH_ALEN] = {0x52, 0x54, 0x00, 0x12, 0x34, last};
    memcpy(n->nc->cmdline_mac, mac, ETH_ALEN);
    n->sink = g_new0(Sink, 1);
    n->sink->frames = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    n->sink->times = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_autofree char *be = g_strdup_printf("be-%s", name);
    n->sink->nc = net_client_new(&sink_info, be, n->sink);
    g_assert_true(net_client_connect(n->nc, n->sink->nc, NULL));
    return n;
}

static void nic_free(Nic *n)
{
    net_client_free(n->nc);
    net_client_free(n->sink->nc);
    g_ptr_array_unref(n->sink->frames);
    g_array_unref(n->sink->times);
    g_free(n->sink);
    g_array_unref(n->hook_times);
    if (n->addrs) {
        g_array_unref(n->addrs);
    }
    g_free(n);
}

static int64_t now_ns(void)
{
    return clock_get_ns(TERN_CLOCK_VIRTUAL);
}

static void defaults(AnnounceParameters *p)
{
    announce_parameters_default(p);
}

/* Events seen, as "NAME id=ID if=a,b". */
static GPtrArray *events;

static void on_event(const char *name, JsonObject *data, void *opaque)
{
    if (strcmp(name, "ANNOUNCE_COMPLETED") != 0) {
        return;
    }
    GString *s = g_string_new(name);
    if (json_object_has_member(data, "id")) {
        g_string_append_printf(s, " id=%s", json_object_get_string_member(data, "id"));
    }
    JsonArray *a = json_object_get_array_member(data, "interfaces");
    g_string_append(s, " if=");
    for (guint i = 0; i < json_array_get_length(a); i++) {
        g_string_append_printf(s, "%s%s", i ? "," : "", json_array_get_string_element(a, i));
    }
    g_ptr_array_add(events, g_string_free(s, FALSE));
}

static void reset_world(void)
{
    announce_cancel_all();
    g_ptr_array_set_size(events, 0);
    migrate_params_reset();
}

/* A fresh world with one NIC whose guest takes the announce. */
static Nic *guest_nic_new(bool rarp_fallback)
{
    reset_world();
    Nic *n = nic_new("nic0", true, 0x56);
    n->guest = true;
    n->nc->announce_rarp_fallback = rarp_fallback; /* announce_rarp=fallback */
    return n;
}

static void test_defaults_and_bounds(void)
{
    AnnounceParameters p;
    defaults(&p);
    g_assert_cmpint(p.initial, ==, 50);
    g_assert_cmpint(p.max, ==, 550);
    g_assert_cmpint(p.rounds, ==, 5);
    g_assert_cmpint(p.step, ==, 100);
    g_assert_true(announce_parameters_check(&p, NULL));

    static const struct {
        AnnounceParameters p;
        const char *msg;
    } bad[] = {
        {{100001, 550, 5, 100},
         "Parameter 'announce_initial' expects a value between 0 and 100000"},
        {{-1, 550, 5, 100},
         "Parameter 'announce_initial' expects a value between 0 and 100000"},
        {{50, 100001, 5, 100}, "Parameter 'announce_max' expects a value between 0 and 100000"},
        {{50, 550, 1001, 100},
         "Parameter 'announce_rounds' expects a value between 0 and 1000"},
        {{50, 550, 5, 0}, "Parameter 'announce_step' expects a value between 0 and 10000"},
        {{50, 550, 5, 10001}, "Parameter 'announce_step' expects a value between 0 and 10000"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        g_assert_false(announce_parameters_check(&bad[i].p, &err));
        g_assert_cmpstr(err->message, ==, bad[i].msg);
    }
    static const AnnounceParameters edges[] = {{0, 0, 0, 1}, {100000, 100000, 1000, 10000}};
    for (size_t i = 0; i < G_N_ELEMENTS(edges); i++) {
        g_assert_true(announce_parameters_check(&edges[i], NULL));
    }
    g_autoptr(GError) err = NULL;
    AnnounceParameters q = {50, 550, 2000, 100};
    g_assert_false(announce_parameters_check_named(&q, "", &err));
    g_assert_cmpstr(err->message, ==, "Parameter 'rounds' expects a value between 0 and 1000");
}

static void test_schedule(void)
{
    AnnounceParameters p;
    defaults(&p);
    static const int64_t want[] = {0, 50, 150, 250, 350, 450, 550, 550, 550};
    for (size_t k = 0; k < G_N_ELEMENTS(want); k++) {
        g_assert_cmpint(announce_round_delay_ms(&p, k), ==, want[k]);
    }
    AnnounceParameters q = {.initial = 700, .max = 300, .rounds = 3, .step = 10};
    g_assert_cmpint(announce_round_delay_ms(&q, 1), ==, 300); /* initial above max: max */
    AnnounceParameters r = {.initial = 100000, .max = 100000, .rounds = 1000, .step = 10000};
    g_assert_cmpint(announce_round_delay_ms(&r, 999), ==, 100000);
}

/* FACTS.md: broadcast, the MAC, 0x8035, htype 1, ptype 0x0800, hlen 6, plen 4, op 3,
 * sender = target = MAC, IPs 0.0.0.0, zero padding to 60 bytes. */
static const uint8_t rarp_untagged[60] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,                   /* destination */
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56,                   /* source */
    0x80, 0x35,                                           /* RARP */
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x03,       /* htype ptype hlen plen op */
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0,    0,    0, 0, /* sender MAC, IP */
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0,    0,    0, 0, /* target MAC, IP */
};

static void test_rarp_bytes(void)
{
    const uint8_t mac[ETH_ALEN] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    uint8_t buf[ANNOUNCE_RARP_TAGGED_LEN];
    memset(buf, 0xaa, sizeof(buf));
    g_assert_cmpuint(announce_build_rarp(buf, mac, 0), ==, 60);
    g_assert_cmpmem(buf, 60, rarp_untagged, 60);

    /* VLAN 100: the 802.1Q tag after the source MAC, the rest moved by 4: 64 bytes. */
    uint8_t want[64] = {0};
    memcpy(want, rarp_untagged, 12);
    memcpy(want + 12, (uint8_t[]){0x81, 0x00, 0x00, 0x64}, 4);
    memcpy(want + 16, rarp_untagged + 12, 48);
    memset(buf, 0xaa, sizeof(buf));
    g_assert_cmpuint(announce_build_rarp(buf, mac, 100), ==, 64);
    g_assert_cmpmem(buf, 64, want, 64);
    g_assert_cmpuint(announce_build_rarp(buf, mac, 4094), ==, 64);
    g_assert_cmpmem(buf + 14, 2, ((uint8_t[]){0x0f, 0xfe}), 2);
}

/* Round 1 was sent at t0 (the announce just began): the next four RARP frames arrive at
 * exactly +50, +200, +450, +800 ms, and none at any other time. */
static void assert_rarp_rounds(Nic *n, int64_t t0)
{
    g_assert_cmpuint(n->sink->frames->len, ==, 1);
    static const int64_t at[] = {50, 200, 450, 800};
    for (size_t i = 0; i < G_N_ELEMENTS(at); i++) {
        clock_virtual_set(t0 + at[i] * MS - 1);
        g_assert_cmpuint(n->sink->frames->len, ==, i + 1);
        clock_virtual_step(1);
        g_assert_cmpuint(n->sink->frames->len, ==, i + 2);
        g_assert_cmpint(g_array_index(n->sink->times, int64_t, i + 1) - t0, ==, at[i] * MS);
    }
    clock_virtual_step(10000 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 5);
    g_assert_cmpint(g_array_index(n->sink->times, int64_t, 0), ==, t0);
}

/* Frames arrive at exactly t0, +50, +200, +450, +800 ms, and at no other time. */
static void test_rarp_timeline(void)
{
    reset_world();
    Nic *n = nic_new("nic0", false, 0x56);
    AnnounceParameters p;
    defaults(&p);
    int64_t t0 = now_ns();
    net_announce(&p, NULL, NULL, TERN_CLOCK_VIRTUAL);
    assert_rarp_rounds(n, t0);
    for (guint i = 0; i < 5; i++) {
        GByteArray *f = g_ptr_array_index(n->sink->frames, i);
        g_assert_cmpmem(f->data, f->len, rarp_untagged, 60);
    }
    g_assert_cmpuint(events->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(events, 0), ==, "ANNOUNCE_COMPLETED if=nic0");
    AnnounceNicStats st;
    announce_nic_stats(n->nc, &st);
    g_assert_false(st.active);
    g_assert_cmpint(st.mode, ==, ANNOUNCE_MODE_RARP);
    g_assert_cmpint(st.rounds_done, ==, 5);
    g_assert_cmpuint(st.frames_sent, ==, 5);
    nic_free(n);
}

/* A NIC whose hook returns false (guest cannot) gets RARP from the VMM; the addresses
 * callback adds tagged frames, duplicates once; with no addresses the configured MAC. */
static void test_fallback_addresses(void)
{
    reset_world();
    Nic *n = nic_new("nic0", true, 0x56);
    n->addrs = g_array_new(FALSE, FALSE, sizeof(NetAnnounceAddr));
    NetAnnounceAddr a[] = {
        {{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, 0},
        {{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, 100},
        {{0x02, 0x00, 0x00, 0x00, 0x00, 0x07}, 100},
        {{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, 100}, /* duplicate */
    };
    g_array_append_vals(n->addrs, a, G_N_ELEMENTS(a));
    AnnounceParameters p = {.initial = 50, .max = 550, .rounds = 1, .step = 100};
    net_announce(&p, NULL, NULL, TERN_CLOCK_VIRTUAL);
    g_assert_cmpuint(n->hook_times->len, ==, 1);
    g_assert_cmpuint(n->sink->frames->len, ==, 3);
    uint8_t want[64];
    for (guint i = 0; i < 3; i++) {
        size_t len = announce_build_rarp(want, a[i].mac, a[i].vlan);
        GByteArray *f = g_ptr_array_index(n->sink->frames, i);
        g_assert_cmpmem(f->data, f->len, want, len);
    }
    g_assert_cmpuint(((GByteArray *)g_ptr_array_index(n->sink->frames, 1))->len, ==, 64);
    g_array_set_size(n->addrs, 0);
    net_announce(&p, NULL, NULL, TERN_CLOCK_VIRTUAL);
    g_assert_cmpuint(n->sink->frames->len, ==, 4);
    GByteArray *f = g_ptr_array_index(n->sink->frames, 3);
    g_assert_cmpmem(f->data, f->len, rarp_untagged, 60);
    nic_free(n);
}

/* Guest announce: one request per round, the next only after the ACK plus the delay; no
 * ACK, no next round; with announce_rarp=fallback no RARP at all. */
static void test_guest_paced_by_acks(void)
{
    Nic *n = guest_nic_new(true);
    AnnounceParameters p;
    defaults(&p);
    int64_t t0 = now_ns();
    net_announce(&p, NULL, "g", TERN_CLOCK_VIRTUAL);
    g_assert_cmpuint(n->hook_times->len, ==, 1);
    g_assert_cmpuint(n->sink->frames->len, ==, 0);
    AnnounceNicStats st;
    announce_nic_stats(n->nc, &st);
    g_assert_true(st.active && st.awaiting_ack);
    g_assert_cmpint(st.mode, ==, ANNOUNCE_MODE_GUEST);
    g_assert_cmpint(st.last_ack_ms, ==, -1);

    /* No ACK: nothing more, however long we wait. */
    clock_virtual_step(5000 * MS);
    g_assert_cmpuint(n->hook_times->len, ==, 1);

    /* ACKs 10 ms after each request: rounds at ack + 50, 150, 250, 350. */
    int64_t ack = now_ns();
    static const int64_t gaps[] = {50, 150, 250, 350};
    for (size_t i = 0; i < G_N_ELEMENTS(gaps); i++) {
        announce_note_guest_ack(n->nc);
        announce_nic_stats(n->nc, &st);
        g_assert_cmpint(st.last_ack_ms, ==, ack / MS);
        g_assert_false(st.awaiting_ack);
        clock_virtual_set(ack + gaps[i] * MS - 1);
        g_assert_cmpuint(n->hook_times->len, ==, i + 1);
        clock_virtual_step(1);
        g_assert_cmpuint(n->hook_times->len, ==, i + 2);
        g_assert_cmpint(g_array_index(n->hook_times, int64_t, i + 1), ==, ack + gaps[i] * MS);
        clock_virtual_step(10 * MS);
        ack = now_ns();
    }
    announce_nic_stats(n->nc, &st);
    g_assert_cmpint(st.rounds_done, ==, 5);
    g_assert_cmpint(st.rounds_left, ==, 0);
    g_assert_true(st.active); /* until the last ACK */
    g_assert_cmpuint(events->len, ==, 0);
    announce_note_guest_ack(n->nc);
    announce_nic_stats(n->nc, &st);
    g_assert_false(st.active);
    g_assert_cmpuint(st.guest_acks, ==, 5);
    g_assert_cmpuint(st.guest_irqs, ==, 5);
    g_assert_cmpuint(st.frames_sent, ==, 0);
    g_assert_cmpuint(events->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(events, 0), ==, "ANNOUNCE_COMPLETED id=g if=nic0");
    clock_virtual_step(5000 * MS);
    g_assert_cmpuint(n->hook_times->len, ==, 5);
    g_assert_cmpint(t0, <, ack);

    /* The default (announce_rarp=always): RARP rounds besides the guest's. */
    n->nc->announce_rarp_fallback = false;
    net_announce(&p, NULL, NULL, TERN_CLOCK_VIRTUAL);
    g_assert_cmpuint(n->hook_times->len, ==, 6);
    g_assert_cmpuint(n->sink->frames->len, ==, 1);
    announce_note_guest_ack(n->nc);
    clock_virtual_step(50 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 2);
    nic_free(n);
}

/* The default: RARP rounds on their own schedule, whatever the guest does. A guest that
 * never ACKs gets one request; the VMM's frames still leave at t0, +50, +200, +450,
 * +800 ms, the first before the guest is asked. A guest that ACKs late paces only its
 * own rounds. */
static void test_rarp_independent_of_acks(void)
{
    Nic *n = guest_nic_new(false);
    AnnounceParameters p;
    defaults(&p);
    int64_t t0 = now_ns();
    net_announce(&p, NULL, NULL, TERN_CLOCK_VIRTUAL);
    g_assert_cmpuint(n->hook_times->len, ==, 1);
    AnnounceNicStats st;
    announce_nic_stats(n->nc, &st);
    const AnnounceMark *m = &g_array_index(st.history, AnnounceMark, 0);
    g_assert_cmpint(m->kind, ==, ANNOUNCE_MARK_RARP); /* the frame before the interrupt */
    assert_rarp_rounds(n, t0);
    g_assert_cmpuint(n->hook_times->len, ==, 1);
    announce_nic_stats(n->nc, &st);
    g_assert_true(st.active && st.awaiting_ack); /* the guest still owes round 1 */
    g_assert_cmpint(st.mode, ==, ANNOUNCE_MODE_GUEST);
    g_assert_cmpuint(events->len, ==, 0);

    /* The late ACK: guest round 2 50 ms later, no more RARP. */
    announce_note_guest_ack(n->nc);
    clock_virtual_step(50 * MS);
    g_assert_cmpuint(n->hook_times->len, ==, 2);
    for (int k = 3; k <= 5; k++) {
        announce_note_guest_ack(n->nc);
        clock_virtual_step(1000 * MS);
        g_assert_cmpuint(n->hook_times->len, ==, k);
    }
    announce_note_guest_ack(n->nc);
    g_assert_cmpuint(n->sink->frames->len, ==, 5);
    g_assert_cmpuint(events->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(events, 0), ==, "ANNOUNCE_COMPLETED if=nic0");
    nic_free(n);
}

/* announce_rarp=fallback: a guest that stops taking rounds (reset, no driver) gets RARP
 * for the rest, on the virtual clock, each round after the delay. */
static void test_fallback_takes_over(void)
{
    Nic *n = guest_nic_new(true);
    AnnounceParameters p;
    defaults(&p);
    net_announce(&p, NULL, NULL, TERN_CLOCK_VIRTUAL);
    g_assert_cmpuint(n->sink->frames->len, ==, 0);
    n->guest = false;
    announce_note_guest_ack(n->nc);
    int64_t ack = now_ns();
    clock_virtual_step(50 * MS);
    g_assert_cmpuint(n->hook_times->len, ==, 2);
    g_assert_cmpuint(n->sink->frames->len, ==, 1);
    clock_virtual_step(10000 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 4);
    static const int64_t after_ack[] = {50, 200, 450, 800};
    for (guint i = 0; i < 4; i++) {
        g_assert_cmpint(g_array_index(n->sink->times, int64_t, i) - ack, ==, after_ack[i] * MS);
    }
    AnnounceNicStats st;
    announce_nic_stats(n->nc, &st);
    g_assert_false(st.active);
    g_assert_cmpint(st.mode, ==, ANNOUNCE_MODE_RARP);
    nic_free(n);
}

/* A second request while the guest still owes an ACK raises no second interrupt: the
 * pending request stands for round 1 of the new announcer. */
static void test_overlap_no_storm(void)
{
    Nic *n = guest_nic_new(false);
    AnnounceParameters p;
    defaults(&p);
    net_announce(&p, NULL, NULL, TERN_CLOCK_VIRTUAL); /* the migration announce */
    AnnounceParameters q = {.initial = 20, .max = 100, .rounds = 2, .step = 10};
    net_announce(&q, NULL, "manual", TERN_CLOCK_VIRTUAL);
    net_announce(&q, NULL, "manual2", TERN_CLOCK_VIRTUAL);
    g_assert_cmpuint(n->hook_times->len, ==, 1);
    AnnounceNicStats st;
    announce_nic_stats(n->nc, &st);
    g_assert_cmpstr(st.id, ==, "manual2");
    g_assert_cmpint(st.rounds_done, ==, 1);
    announce_note_guest_ack(n->nc);
    clock_virtual_step(20 * MS);
    g_assert_cmpuint(n->hook_times->len, ==, 2);
    announce_note_guest_ack(n->nc);
    clock_virtual_step(1000 * MS);
    g_assert_cmpuint(n->hook_times->len, ==, 2);
    g_assert_cmpuint(events->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(events, 0), ==, "ANNOUNCE_COMPLETED id=manual2 if=nic0");
    nic_free(n);
}

static void test_named_replace_and_stop(void)
{
    reset_world();
    Nic *n = nic_new("nic0", false, 0x56);
    AnnounceParameters p;
    defaults(&p);
    net_announce(&p, NULL, "a", TERN_CLOCK_VIRTUAL);
    g_assert_cmpuint(n->sink->frames->len, ==, 1);
    clock_virtual_step(50 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 2);
    /* rounds 0 under the same id stops it. */
    AnnounceParameters stop = p;
    stop.rounds = 0;
    net_announce(&stop, NULL, "a", TERN_CLOCK_VIRTUAL);
    clock_virtual_step(5000 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 2);
    g_assert_cmpuint(events->len, ==, 0);
    AnnounceNicStats st;
    announce_nic_stats(n->nc, &st);
    g_assert_false(st.active);

    /* Same id again replaces: its own schedule from now, 2 rounds 10 ms apart. */
    net_announce(&p, NULL, "b", TERN_CLOCK_VIRTUAL);
    AnnounceParameters q = {.initial = 10, .max = 10, .rounds = 2, .step = 1};
    net_announce(&q, NULL, "b", TERN_CLOCK_VIRTUAL);
    g_assert_cmpuint(n->sink->frames->len, ==, 4);
    clock_virtual_step(10 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 5);
    clock_virtual_step(5000 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 5);
    g_assert_cmpuint(events->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(events, 0), ==, "ANNOUNCE_COMPLETED id=b if=nic0");
    nic_free(n);
}

static void test_interfaces_filter(void)
{
    reset_world();
    Nic *a = nic_new("nic0", false, 0x01), *b = nic_new("nic1", true, 0x02);
    Nic *c = nic_new("nic2", false, 0x03);
    AnnounceParameters p;
    defaults(&p);
    const char *const only[] = {"nic1", "nic2", NULL};
    net_announce(&p, only, "f", TERN_CLOCK_VIRTUAL);
    clock_virtual_step(10000 * MS);
    g_assert_cmpuint(a->sink->frames->len, ==, 0);
    g_assert_cmpuint(b->sink->frames->len, ==, 5);
    g_assert_cmpuint(c->sink->frames->len, ==, 5);
    g_assert_cmpuint(events->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(events, 0), ==, "ANNOUNCE_COMPLETED id=f if=nic1,nic2");
    nic_free(a);
    nic_free(b);
    nic_free(c);
}

/* Reset of the NIC, unplug, and a stop of the VM end rounds in flight, without event. */
static void test_cancellation(void)
{
    reset_world();
    runstate_init(RUN_STATE_PRELAUNCH);
    vm_start();
    Nic *a = nic_new("nic0", false, 0x01), *b = nic_new("nic1", true, 0x02);
    b->guest = true;
    AnnounceParameters p;
    defaults(&p);
    net_announce(&p, NULL, NULL, TERN_CLOCK_VIRTUAL);
    announce_nic_reset(b->nc);
    AnnounceNicStats st;
    announce_nic_stats(b->nc, &st);
    g_assert_false(st.active || st.awaiting_ack);
    announce_note_guest_ack(b->nc); /* a stray ACK starts nothing */
    clock_virtual_step(50 * MS);
    g_assert_cmpuint(b->hook_times->len, ==, 1);
    g_assert_cmpuint(a->sink->frames->len, ==, 2);

    vm_stop(RUN_STATE_PAUSED);
    clock_virtual_step(10000 * MS);
    g_assert_cmpuint(a->sink->frames->len, ==, 2);
    vm_start(); /* a plain cont: no announce */
    clock_virtual_step(10000 * MS);
    g_assert_cmpuint(a->sink->frames->len, ==, 2);
    g_assert_cmpuint(events->len, ==, 0);

    /* Unplug mid-announce. */
    net_announce(&p, NULL, "u", TERN_CLOCK_VIRTUAL);
    nic_free(b);
    clock_virtual_step(10000 * MS);
    g_assert_cmpuint(a->sink->frames->len, ==, 7);
    g_assert_cmpuint(events->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(events, 0), ==, "ANNOUNCE_COMPLETED id=u if=nic0");
    vm_stop(RUN_STATE_PAUSED);
    nic_free(a);
}

/* Only the first run after an incoming migration announces (autostart or cont from
 * prelaunch-migrate), with the migration parameters the incoming side armed it with;
 * never a plain start or cont. */
static void test_runstate_trigger(void)
{
    reset_world();
    Nic *n = nic_new("nic0", false, 0x56);
    g_autoptr(GError) err = NULL;
    g_autofree char *r = qmp_execute_text(
        "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"announce-rounds\":2,"
        "\"announce-initial\":30}}");
    g_assert_cmpstr(r, ==, "{\"return\": {}}");

    runstate_init(RUN_STATE_PRELAUNCH);
    vm_start();
    g_assert_cmpuint(n->sink->frames->len, ==, 0);
    vm_stop(RUN_STATE_PAUSED);
    vm_start();
    vm_stop(RUN_STATE_SHUTDOWN);
    g_assert_cmpuint(n->sink->frames->len, ==, 0);

    /* inmigrate -> running (autostart). The stream loaded: the incoming side arms. */
    runstate_init(RUN_STATE_INMIGRATE);
    announce_arm_first_run(&migrate_params()->announce);
    vm_start();
    g_assert_cmpuint(n->sink->frames->len, ==, 1);
    clock_virtual_step(30 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 2);
    clock_virtual_step(10000 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 2);
    vm_stop(RUN_STATE_PAUSED);
    vm_start();
    g_assert_cmpuint(n->sink->frames->len, ==, 2);
    vm_stop(RUN_STATE_PAUSED);

    /* inmigrate -> prelaunch-migrate (-S) -> cont. Nothing before cont. */
    runstate_init(RUN_STATE_INMIGRATE);
    announce_arm_first_run(&migrate_params()->announce);
    runstate_set(RUN_STATE_PRELAUNCH_MIGRATE);
    clock_virtual_step(1000 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 2);
    g_assert_true(vm_cont(&err));
    g_assert_cmpuint(n->sink->frames->len, ==, 3);
    /* An outgoing migration stops the VM: rounds in flight end. */
    vm_stop(RUN_STATE_FINISH_MIGRATE);
    clock_virtual_step(10000 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 3);
    nic_free(n);
}

/* The arrival announce is the incoming side's to arm: a start after inmigrate that was
 * not armed sends nothing, and an armed one reads the parameters when the VM starts, so
 * a migrate-set-parameters between the load and `cont` counts. It goes out once. */
static void test_arm_first_run(void)
{
    reset_world();
    Nic *n = nic_new("nic0", false, 0x57);
    g_autoptr(GError) err = NULL;
    runstate_init(RUN_STATE_INMIGRATE);
    vm_start();
    clock_virtual_step(10000 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 0);
    vm_stop(RUN_STATE_PAUSED);

    runstate_init(RUN_STATE_INMIGRATE);
    announce_arm_first_run(&migrate_params()->announce);
    runstate_set(RUN_STATE_PRELAUNCH_MIGRATE);
    g_autofree char *r = qmp_execute_text(
        "{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"announce-rounds\":1}}");
    g_assert_cmpstr(r, ==, "{\"return\": {}}");
    g_assert_true(vm_cont(&err));
    clock_virtual_step(10000 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 1);
    vm_stop(RUN_STATE_PAUSED);
    g_assert_true(vm_cont(&err));
    clock_virtual_step(10000 * MS);
    g_assert_cmpuint(n->sink->frames->len, ==, 1);
    vm_stop(RUN_STATE_PAUSED);
    nic_free(n);
}

static char *qmp(const char *req)
{
    return qmp_execute_text(req);
}

static void test_qmp(void)
{
    reset_world();
    Nic *a = nic_new("nic0", false, 0x01), *b = nic_new("nic1", true, 0x02);
    b->guest = true;
    g_autofree char *r1 = qmp("{\"execute\":\"query-migrate-parameters\"}");
    /* Other parameters (migration's) may follow; the announce ones are QEMU's defaults. */
    g_assert_true(strstr(r1, "{\"return\": {\"announce-initial\": 50, \"announce-max\": "
                             "550, \"announce-rounds\": 5, \"announce-step\": 100"));
    /* A bad value anywhere: QEMU's message, and nothing changes. */
    g_autofree char *r2 = qmp("{\"execute\":\"migrate-set-parameters\",\"arguments\":"
                              "{\"announce-max\":1,\"announce-step\":0}}");
    g_assert_true(strstr(r2, "Parameter 'announce_step' expects a value between 0 and 10000"));
    g_autofree char *r3 = qmp("{\"execute\":\"query-migrate-parameters\"}");
    g_assert_cmpstr(r3, ==, r1);

    g_autofree char *r4 =
        qmp("{\"execute\":\"announce-self\",\"arguments\":{\"initial\":50,"
            "\"max\":550,\"rounds\":5,\"step\":100,\"interfaces\":[\"nope\"]}}");
    g_assert_true(strstr(r4, "DeviceNotFound") && strstr(r4, "Device 'nope' not found"));
    g_autofree char *r5 =
        qmp("{\"execute\":\"announce-self\",\"arguments\":{\"initial\":50,"
            "\"max\":550,\"rounds\":5,\"step\":100,\"interfaces\":[\"be-nic0\"]}}");
    g_assert_true(strstr(r5, "is a netdev, not a NIC"));
    g_autofree char *r6 = qmp("{\"execute\":\"announce-self\",\"arguments\":{\"initial\":50,"
                              "\"max\":550,\"rounds\":1001,\"step\":100}}");
    g_assert_true(strstr(r6, "Parameter 'rounds' expects a value between 0 and 1000"));
    g_assert_cmpuint(a->sink->frames->len, ==, 0);

    int64_t t0 = now_ns();
    g_autofree char *r7 = qmp("{\"execute\":\"announce-self\",\"arguments\":{\"initial\":50,"
                              "\"max\":550,\"rounds\":3,\"step\":100,\"id\":\"x\"}}");
    g_assert_cmpstr(r7, ==, "{\"return\": {}}");
    g_assert_cmpuint(a->sink->frames->len, ==, 1);
    clock_virtual_step(10 * MS);
    announce_note_guest_ack(b->nc);
    g_autofree char *q_raw = qmp("{\"execute\":\"query-announce\"}");
    /* Both NICs sent round 1 of RARP at once; nic1's guest was asked after it. */
    /* The history's wall-clock stamps vary: compare everything else exactly. */
    g_autoptr(GRegex) stamp = g_regex_new("\"wall-us\": [0-9]+", 0, 0, NULL);
    g_autofree char *q =
        g_regex_replace_literal(stamp, q_raw, -1, 0, "\"wall-us\": T", 0, NULL);
    g_autofree char *want = g_strdup_printf(
        "{\"return\": [{\"name\": \"nic0\", \"mac\": \"52:54:00:12:34:01\", \"active\": true, "
        "\"id\": \"x\", \"mode\": \"rarp\", \"rounds-done\": 1, \"rounds-left\": 2, "
        "\"awaiting-ack\": false, \"guest-irqs\": 0, \"guest-acks\": 0, \"frames-sent\": 1, "
        "\"history\": [{\"kind\": \"rarp\", \"n\": 1, \"frames\": 1, \"wall-us\": T}]}, "
        "{\"name\": \"nic1\", \"mac\": \"52:54:00:12:34:02\", \"active\": true, \"id\": \"x\", "
        "\"mode\": \"guest\", \"rounds-done\": 1, \"rounds-left\": 2, \"awaiting-ack\": false, "
        "\"guest-irqs\": 1, \"guest-acks\": 1, \"last-ack-ms\": %" G_GINT64_FORMAT ", "
        "\"frames-sent\": 1, \"history\": [{\"kind\": \"rarp\", \"n\": 1, \"frames\": 1, "
        "\"wall-us\": T}, {\"kind\": \"irq\", \"n\": 1, \"wall-us\": T}, "
        "{\"kind\": \"ack\", \"n\": 1, \"wall-us\": T}]}]}",
        (gint64)((t0 + 10 * MS) / MS));
    g_assert_cmpstr(q, ==, want);

    g_autofree char *r8 = qmp("{\"execute\":\"set_link\",\"arguments\":{\"name\":\"zz\","
                              "\"up\":false}}");
    g_assert_true(strstr(r8, "DeviceNotFound") && strstr(r8, "Device 'zz' not found"));
    g_autofree char *r9 = qmp("{\"execute\":\"set_link\",\"arguments\":{\"name\":\"nic0\","
                              "\"up\":false}}");
    g_assert_cmpstr(r9, ==, "{\"return\": {}}");
    g_assert_true(a->nc->link_down && a->sink->nc->link_down);
    /* announce-self's RARP rounds run on the realtime clock (QEMU's): they go out with
     * the virtual clock standing still, as for a paused VM. nic0's link is down: its
     * frames are not delivered. */
    int64_t v0 = now_ns();
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    AnnounceNicStats st;
    do {
        main_loop_iterate(true);
        announce_nic_stats(a->nc, &st);
    } while ((st.active || b->sink->frames->len < 3) && g_get_monotonic_time() < deadline);
    g_assert_false(st.active);
    g_assert_cmpint(st.rounds_done, ==, 3);
    g_assert_cmpuint(a->sink->frames->len, ==, 1);
    g_assert_cmpuint(b->sink->frames->len, ==, 3);
    g_assert_cmpint(now_ns(), ==, v0);
    announce_nic_stats(b->nc, &st);
    g_assert_true(st.active); /* its guest rounds wait for the virtual clock */
    g_assert_cmpuint(st.guest_irqs, ==, 1);
    nic_free(a);
    nic_free(b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    clock_virtual_set_manual(true);
    events = g_ptr_array_new_with_free_func(g_free);
    qmp_event_observer_add(on_event, NULL);
    announce_init(); /* as vl.c does */
    g_test_add_func("/announce/defaults-and-bounds", test_defaults_and_bounds);
    g_test_add_func("/announce/schedule", test_schedule);
    g_test_add_func("/announce/rarp-bytes", test_rarp_bytes);
    g_test_add_func("/announce/rarp-timeline", test_rarp_timeline);
    g_test_add_func("/announce/fallback-addresses", test_fallback_addresses);
    g_test_add_func("/announce/guest-paced-by-acks", test_guest_paced_by_acks);
    g_test_add_func("/announce/rarp-independent-of-acks", test_rarp_independent_of_acks);
    g_test_add_func("/announce/fallback-takes-over", test_fallback_takes_over);
    g_test_add_func("/announce/overlap-no-storm", test_overlap_no_storm);
    g_test_add_func("/announce/named-replace-and-stop", test_named_replace_and_stop);
    g_test_add_func("/announce/interfaces-filter", test_interfaces_filter);
    g_test_add_func("/announce/cancellation", test_cancellation);
    g_test_add_func("/announce/runstate-trigger", test_runstate_trigger);
    g_test_add_func("/announce/arm-first-run", test_arm_first_run);
    g_test_add_func("/announce/qmp", test_qmp);
    return g_test_run();
}
