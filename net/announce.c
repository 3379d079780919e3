/*
 * announce.c: announcing a VM's NICs after it moved (and on QMP announce-self).
 *
 * An announcer is a set of NICs and QEMU's four parameters. Each NIC runs two kinds of
 * rounds, each the first at once and the next min(initial + (k-1)*step, max) ms later:
 * RARP rounds from the VMM, on their own timer (the virtual clock for the migration
 * announce, the realtime clock for announce-self, as QEMU), and guest rounds on the
 * virtual clock, each counted from the guest's ACK of the one before. With
 * announce_rarp=fallback a NIC has only guest rounds, and a round the guest cannot take
 * goes out as RARP instead. A NIC is in at most one announcer; the newest request for it
 * wins. docs/announce.md tells the whole design and why.
 */
#include <string.h>
#include "bswap.h"
#include "error.h"
#include "main-loop.h"
#include "monitor/qmp.h"
#include "net/announce.h"
#include "runstate.h"

#define ETH_P_RARP 0x8035
#define ETH_P_8021Q 0x8100
#define ARP_HTYPE_ETH 1
#define ARP_PTYPE_IP 0x0800
#define ARP_OP_REQUEST_REV 3

typedef struct Announcer {
    char *id; /* NULL: the unnamed announcer (migration, announce-self without id) */
    AnnounceParameters params;
    GPtrArray *nics;     /* AnnounceNic * with rounds in flight */
    GPtrArray *finished; /* char *: NICs that sent every round, for the event */
    bool starting;       /* net_announce is still sending the first rounds */
    TernClockType rarp_clock;
} Announcer;

struct AnnounceNic {
    NetClientState *nc;
    Announcer *owner; /* NULL when idle */
    Timer *timer;     /* guest rounds (fallback: also their RARP stand-ins), virtual clock */
    Timer *rarp_timer[TERN_CLOCK__MAX]; /* RARP rounds, on the owner's rarp_clock */
    int64_t rounds;
    int64_t rounds_done;        /* guest rounds (fallback: every round) */
    int64_t rarp_rounds_done;   /* RARP rounds on their own schedule */
    bool guest_busy, rarp_busy; /* each kind of round still has work in this announcer */
    bool fallback;              /* announce_rarp=fallback, read when the announcer began */
    bool awaiting_ack;
    AnnounceMode mode;
    uint64_t guest_irqs, guest_acks, frames_sent;
    int64_t last_ack_ms;
    char *last_id;
    GArray *history; /* AnnounceMark of the current (or last) announcement */
};

/* The announcer registry: one per process, touched with the big lock held. */
static struct {
    GPtrArray *announcers;        /* Announcer * */
    VMChangeStateEntry *vm_state; /* announce_init's subscription */
    /* The arrival announce's parameters, from the incoming side; read when the VM
     * starts, so a migrate-set-parameters before `cont` still counts (as in QEMU). */
    const AnnounceParameters *first_run;
    bool first_run_armed;
} ann;

void announce_parameters_default(AnnounceParameters *p)
{
    *p = (AnnounceParameters){.initial = 50, .max = 550, .rounds = 5, .step = 100};
}

static bool param_out_of_range(const char *prefix, const char *name, int64_t v, int64_t min,
                               int64_t max, int64_t shown_min, GError **errp)
{
    if (v >= min && v <= max) {
        return false;
    }
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                "Parameter '%s%s' expects a value between %" G_GINT64_FORMAT
                " and %" G_GINT64_FORMAT,
                prefix, name, shown_min, max);
    return true;
}

bool announce_parameters_check_named(const AnnounceParameters *p, const char *prefix,
                                     GError **errp)
{
    /* QEMU's texts and order; its step message says 0 although 0 is refused. */
    return !param_out_of_range(prefix, "initial", p->initial, 0, 100000, 0, errp) &&
           !param_out_of_range(prefix, "max", p->max, 0, 100000, 0, errp) &&
           !param_out_of_range(prefix, "rounds", p->rounds, 0, 1000, 0, errp) &&
           !param_out_of_range(prefix, "step", p->step, 1, 10000, 0, errp);
}

bool announce_parameters_check(const AnnounceParameters *p, GError **errp)
{
    return announce_parameters_check_named(p, "announce_", errp);
}

int64_t announce_round_delay_ms(const AnnounceParameters *p, int64_t rounds_done)
{
    if (rounds_done <= 0) {
        return 0;
    }
    int64_t d = p->initial + (rounds_done - 1) * p->step;
    return (d < 0 || d > p->max) ? p->max : d;
}

size_t announce_build_rarp(uint8_t *buf, const uint8_t mac[ETH_ALEN], uint16_t vlan)
{
    size_t len = vlan ? ANNOUNCE_RARP_TAGGED_LEN : ANNOUNCE_RARP_LEN;
    memset(buf, 0, len);
    memset(buf, 0xff, ETH_ALEN);
    memcpy(buf + 6, mac, ETH_ALEN);
    uint8_t *p = buf + 12;
    if (vlan) {
        st_be16(p, ETH_P_8021Q);
        st_be16(p + 2, vlan & 0x0fff); /* priority 0, DEI 0 */
        p += 4;
    }
    st_be16(p, ETH_P_RARP);
    st_be16(p + 2, ARP_HTYPE_ETH);
    st_be16(p + 4, ARP_PTYPE_IP);
    p[6] = ETH_ALEN;
    p[7] = 4;
    st_be16(p + 8, ARP_OP_REQUEST_REV);
    memcpy(p + 10, mac, ETH_ALEN); /* sender hardware address; sender IP 0.0.0.0 */
    memcpy(p + 20, mac, ETH_ALEN); /* target hardware address; target IP 0.0.0.0 */
    return len;                    /* the rest is padding to the minimum frame */
}

static void nic_timer_cb(void *opaque);
static void nic_rarp_timer_cb(void *opaque);

static struct AnnounceNic *nic_state(NetClientState *nc)
{
    if (!nc->announce) {
        struct AnnounceNic *an = g_new0(struct AnnounceNic, 1);
        an->nc = nc;
        an->last_ack_ms = -1;
        an->history = g_array_new(FALSE, FALSE, sizeof(AnnounceMark));
        an->timer = timer_new(TERN_CLOCK_VIRTUAL, nic_timer_cb, an);
        for (int c = 0; c < TERN_CLOCK__MAX; c++) {
            an->rarp_timer[c] = timer_new(c, nic_rarp_timer_cb, an);
        }
        nc->announce = an;
    }
    return nc->announce;
}

/* Every (MAC, VLAN) to announce for nc, without duplicates, at most ANNOUNCE_MAX_ADDRS. */
static GArray *nic_addresses(NetClientState *nc)
{
    GArray *raw = g_array_new(FALSE, FALSE, sizeof(NetAnnounceAddr));
    if (nc->info->announce_addresses) {
        nc->info->announce_addresses(nc, raw);
    }
    if (raw->len == 0) {
        NetAnnounceAddr a = {.vlan = 0};
        memcpy(a.mac, nc->cmdline_mac, ETH_ALEN);
        g_array_append_val(raw, a);
    }
    GArray *out = g_array_new(FALSE, FALSE, sizeof(NetAnnounceAddr));
    for (guint i = 0; i < raw->len && out->len < ANNOUNCE_MAX_ADDRS; i++) {
        NetAnnounceAddr *a = &g_array_index(raw, NetAnnounceAddr, i);
        bool seen = false;
        for (guint j = 0; j < out->len && !seen; j++) {
            NetAnnounceAddr *b = &g_array_index(out, NetAnnounceAddr, j);
            seen = b->vlan == a->vlan && memcmp(b->mac, a->mac, ETH_ALEN) == 0;
        }
        if (!seen && a->vlan < 4095) {
            g_array_append_val(out, *a);
        }
    }
    g_array_free(raw, TRUE);
    return out;
}

/* Note what happened when, in wall-clock time (as QMP event timestamps), so a watcher
 * reads exact times with one query-announce instead of polling. */
static void nic_mark(struct AnnounceNic *an, AnnounceMarkKind kind, uint64_t n, uint64_t frames)
{
    if (an->history->len >= ANNOUNCE_HISTORY_MAX) {
        g_array_remove_index(an->history, 0);
    }
    AnnounceMark m = {.kind = kind, .n = n, .frames = frames, .wall_us = g_get_real_time()};
    g_array_append_val(an->history, m);
}

static void nic_send_rarp(struct AnnounceNic *an, int64_t round)
{
    uint64_t before = an->frames_sent;
    GArray *addrs = nic_addresses(an->nc);
    for (guint i = 0; i < addrs->len; i++) {
        NetAnnounceAddr *a = &g_array_index(addrs, NetAnnounceAddr, i);
        uint8_t buf[ANNOUNCE_RARP_TAGGED_LEN];
        size_t len = announce_build_rarp(buf, a->mac, a->vlan);
        if (net_send_plain(an->nc, buf, len)) {
            an->frames_sent++;
        }
    }
    g_array_free(addrs, TRUE);
    nic_mark(an, ANNOUNCE_MARK_RARP, round, an->frames_sent - before);
}

static void announcer_free(Announcer *a)
{
    g_ptr_array_remove(ann.announcers, a);
    g_ptr_array_unref(a->nics);
    g_ptr_array_unref(a->finished);
    g_free(a->id);
    g_free(a);
}

static void announcer_emit_done(Announcer *a)
{
    JsonObject *data = json_object_new();
    JsonArray *names = json_array_new();
    if (a->id) {
        json_object_set_string_member(data, "id", a->id);
    }
    for (guint i = 0; i < a->finished->len; i++) {
        json_array_add_string_element(names, g_ptr_array_index(a->finished, i));
    }
    json_object_set_array_member(data, "interfaces", names);
    qmp_event_emit("ANNOUNCE_COMPLETED", data);
}

/* An announcer whose last NIC left ends here; it reports the NICs that got every round. */
static void announcer_maybe_done(Announcer *a)
{
    if (a->nics->len || a->starting) {
        return;
    }
    if (a->finished->len) {
        announcer_emit_done(a);
    }
    announcer_free(a);
}

static void nic_timers_del(struct AnnounceNic *an)
{
    timer_del(an->timer);
    for (int c = 0; c < TERN_CLOCK__MAX; c++) {
        timer_del(an->rarp_timer[c]);
    }
}

static void nic_detach(struct AnnounceNic *an, bool finished)
{
    Announcer *a = an->owner;
    if (!a) {
        return;
    }
    nic_timers_del(an);
    an->owner = NULL;
    g_ptr_array_remove(a->nics, an);
    if (finished) {
        g_ptr_array_add(a->finished, g_strdup(an->nc->name));
    }
    announcer_maybe_done(a);
}

/* A NIC has finished when both kinds of round are over. */
static void nic_maybe_finished(struct AnnounceNic *an)
{
    if (an->owner && !an->guest_busy && !an->rarp_busy) {
        nic_detach(an, true);
    }
}

/* Arm `t` for the round after `done` rounds, or report that kind of round over. */
static bool nic_arm(struct AnnounceNic *an, Timer *t, TernClockType clock, int64_t done)
{
    if (done >= an->rounds) {
        return false;
    }
    int64_t delay = announce_round_delay_ms(&an->owner->params, done);
    timer_mod_ns(t, clock_get_ns(clock) + delay * NS_PER_MS);
    return true;
}

static void nic_arm_guest_next(struct AnnounceNic *an)
{
    an->guest_busy = nic_arm(an, an->timer, TERN_CLOCK_VIRTUAL, an->rounds_done);
    nic_maybe_finished(an);
}

/* A RARP round on the NIC's own schedule: it never waits for the guest. */
static void nic_rarp_round(struct AnnounceNic *an)
{
    an->rarp_rounds_done++;
    nic_send_rarp(an, an->rarp_rounds_done);
    if (!an->guest_busy) {
        an->mode = ANNOUNCE_MODE_RARP;
    }
    TernClockType c = an->owner->rarp_clock;
    an->rarp_busy = nic_arm(an, an->rarp_timer[c], c, an->rarp_rounds_done);
    nic_maybe_finished(an);
}

/* A guest round: ask the guest. If it cannot take it, a fallback NIC sends RARP in its
 * place and goes on; otherwise the guest rounds end here (the RARP rounds cover it). */
static void nic_guest_round(struct AnnounceNic *an)
{
    NetClientState *nc = an->nc;
    bool guest = nc->info->announce && nc->info->announce(nc);
    if (!an->owner) {
        return; /* the hook reset the NIC (announce_nic_reset) */
    }
    an->rounds_done++;
    if (guest) {
        an->mode = ANNOUNCE_MODE_GUEST;
        an->awaiting_ack = true; /* announce_note_guest_ack() arms the next round */
        return;
    }
    if (an->fallback) {
        an->mode = ANNOUNCE_MODE_RARP;
        nic_send_rarp(an, an->rounds_done);
        nic_arm_guest_next(an);
        return;
    }
    an->mode = ANNOUNCE_MODE_RARP;
    an->guest_busy = false;
    nic_maybe_finished(an);
}

static void nic_timer_cb(void *opaque)
{
    struct AnnounceNic *an = opaque;
    if (an->owner) {
        nic_guest_round(an);
    }
}

static void nic_rarp_timer_cb(void *opaque)
{
    struct AnnounceNic *an = opaque;
    if (an->owner) {
        nic_rarp_round(an);
    }
}

static Announcer *announcer_find(const char *id)
{
    for (guint i = 0; ann.announcers && i < ann.announcers->len; i++) {
        Announcer *a = g_ptr_array_index(ann.announcers, i);
        if (g_strcmp0(a->id, id) == 0) {
            return a;
        }
    }
    return NULL;
}

static void announcer_cancel(Announcer *a)
{
    a->starting = true; /* keep it alive while its NICs leave */
    while (a->nics->len) {
        nic_detach(g_ptr_array_index(a->nics, a->nics->len - 1), false);
    }
    announcer_free(a);
}

void announce_cancel_all(void)
{
    while (ann.announcers && ann.announcers->len) {
        announcer_cancel(g_ptr_array_index(ann.announcers, 0));
    }
}

void net_announce(const AnnounceParameters *p, const char *const *interfaces, const char *id,
                  TernClockType rarp_clock)
{
    Announcer *old = announcer_find(id);
    if (old) {
        announcer_cancel(old);
    }
    if (p->rounds <= 0) {
        return;
    }
    if (!ann.announcers) {
        ann.announcers = g_ptr_array_new();
    }
    Announcer *a = g_new0(Announcer, 1);
    a->id = g_strdup(id);
    a->params = *p;
    a->nics = g_ptr_array_new();
    a->finished = g_ptr_array_new_with_free_func(g_free);
    a->starting = true;
    a->rarp_clock = rarp_clock;
    g_ptr_array_add(ann.announcers, a);

    GPtrArray *nics = net_nics();
    for (guint i = 0; i < nics->len; i++) {
        NetClientState *nc = g_ptr_array_index(nics, i);
        if (interfaces && !g_strv_contains(interfaces, nc->name ? nc->name : "")) {
            continue;
        }
        struct AnnounceNic *an = nic_state(nc);
        nic_detach(an, false); /* the newest request for a NIC wins */
        an->owner = a;
        an->rounds = p->rounds;
        an->rounds_done = an->rarp_rounds_done = 0;
        an->fallback = nc->announce_rarp_fallback;
        an->rarp_busy = !an->fallback;
        an->guest_busy = an->fallback || nc->info->announce != NULL;
        g_array_set_size(an->history, 0);
        g_free(an->last_id);
        an->last_id = g_strdup(id);
        g_ptr_array_add(a->nics, an);
    }
    /* Round 1 for each NIC, at once: the VMM's frames first, for every NIC, then the
     * guests are asked. A guest that still owes the ACK of an earlier request will
     * announce anyway: that request stands for round 1, no second IRQ. */
    g_autoptr(GPtrArray) first = g_ptr_array_copy(a->nics, NULL, NULL);
    for (guint i = 0; i < first->len; i++) {
        struct AnnounceNic *an = g_ptr_array_index(first, i);
        if (an->owner == a && an->rarp_busy) {
            nic_rarp_round(an);
        }
    }
    for (guint i = 0; i < first->len; i++) {
        struct AnnounceNic *an = g_ptr_array_index(first, i);
        if (an->owner != a || !an->guest_busy) {
            continue;
        }
        if (an->awaiting_ack) {
            an->rounds_done = 1;
            an->mode = ANNOUNCE_MODE_GUEST;
        } else {
            nic_guest_round(an);
        }
    }
    a->starting = false;
    announcer_maybe_done(a);
}

void announce_note_guest_irq(NetClientState *nic)
{
    struct AnnounceNic *an = nic_state(nic);
    an->guest_irqs++;
    nic_mark(an, ANNOUNCE_MARK_IRQ, an->guest_irqs, 0);
}

void announce_note_guest_ack(NetClientState *nic)
{
    struct AnnounceNic *an = nic_state(nic);
    an->guest_acks++;
    an->last_ack_ms = clock_get_ms(TERN_CLOCK_VIRTUAL);
    nic_mark(an, ANNOUNCE_MARK_ACK, an->guest_acks, 0);
    bool was_awaiting = an->awaiting_ack;
    an->awaiting_ack = false;
    if (an->owner && was_awaiting && !timer_pending(an->timer)) {
        nic_arm_guest_next(an);
    }
}

void announce_nic_reset(NetClientState *nic)
{
    if (nic->announce) {
        nic->announce->awaiting_ack = false;
        nic_detach(nic->announce, false);
    }
}

void announce_nic_cleanup(NetClientState *nic)
{
    struct AnnounceNic *an = nic->announce;
    if (an) {
        announce_nic_reset(nic);
        timer_free(an->timer);
        for (int c = 0; c < TERN_CLOCK__MAX; c++) {
            timer_free(an->rarp_timer[c]);
        }
        g_free(an->last_id);
        g_array_free(an->history, TRUE);
        g_free(an);
        nic->announce = NULL;
    }
}

void announce_nic_stats(NetClientState *nic, AnnounceNicStats *out)
{
    struct AnnounceNic *an = nic->announce;
    *out = (AnnounceNicStats){.last_ack_ms = -1};
    if (!an) {
        return;
    }
    out->active = an->owner != NULL;
    out->id = an->owner ? an->owner->id : an->last_id;
    out->mode = an->mode;
    out->rounds_done = MAX(an->rounds_done, an->rarp_rounds_done);
    out->rounds_left = an->owner ? an->rounds - out->rounds_done : 0;
    out->awaiting_ack = an->awaiting_ack;
    out->guest_irqs = an->guest_irqs;
    out->guest_acks = an->guest_acks;
    out->frames_sent = an->frames_sent;
    out->last_ack_ms = an->last_ack_ms;
    out->history = an->history;
}

/*
 * The arrival announce: the incoming side arms it once the stream has loaded
 * (announce_arm_first_run), and it goes out on the VM's next start here: autostart,
 * `cont` from prelaunch-migrate, or `cont` of a VM that came from a paused source. A VM
 * that moved on before it ever ran here (postmigrate) has not arrived: runstate says so.
 * Any stop ends rounds in flight: a paused guest cannot answer, and a VM that stops for
 * an outgoing migration is about to live elsewhere.
 */
static void announce_vm_state_change(void *opaque, bool running, RunState state, RunState from)
{
    if (!running) {
        announce_cancel_all();
        return;
    }
    if (ann.first_run_armed) {
        ann.first_run_armed = false;
        if (runstate_arrived_by_migration()) {
            /* At once, before the vCPUs run: the first frames leave from here. */
            net_announce(ann.first_run, NULL, NULL, TERN_CLOCK_VIRTUAL);
        }
    }
}

void announce_arm_first_run(const AnnounceParameters *p)
{
    ann.first_run = p;
    ann.first_run_armed = true;
}

void announce_init(void)
{
    if (!ann.vm_state) {
        ann.vm_state = vm_state_notify_add(announce_vm_state_change, NULL, VM_STATE_PRIO_NET);
    }
}
