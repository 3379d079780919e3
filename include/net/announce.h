/*
 * announce.h: telling the network where a VM is now. After an incoming migration (and
 * on QMP announce-self) every NIC is announced for `rounds` rounds of each kind: the VMM
 * sends RARP frames for every (MAC, VLAN) it knows, and a NIC whose model takes the
 * announce hook asks its guest too. Round k (k >= 1) follows round k-1 after
 * min(initial + (k-1)*step, max) ms, QEMU's schedule.
 *
 * Who paces what (docs/announce.md has the whole story):
 *  - announce.c owns every schedule: per announced NIC one timer for RARP rounds and one
 *    for guest rounds. The first round of both goes out at once (inside net_announce()),
 *    RARP first.
 *  - RARP rounds run on their own schedule, never waiting for the guest, on the clock
 *    given to net_announce(): virtual for the migration announce, realtime for
 *    announce-self (QEMU's clock: its frames go out while the VM is paused too).
 *  - A guest round calls info->announce(nc). If it returns true, the guest announces:
 *    the model sets its bit and raises the interrupt (now, or once the driver is ready)
 *    and reports that with announce_note_guest_irq(). When the guest ACKs, the model
 *    clears the bit, answers OK and calls announce_note_guest_ack(): announce.c then
 *    arms the next guest round after the delay, on the virtual clock. No ACK, no next
 *    guest round. If it returns false, the guest rounds end (the RARP rounds go on).
 *  - nc->announce_rarp_fallback (announce_rarp=fallback): no RARP rounds of
 *    their own; a guest round the guest cannot take goes out as RARP and the next round
 *    follows after the delay on the virtual clock (tern's behaviour before "both").
 *  - A NIC is in at most one announcer: a new request for it takes it over (the newest
 *    parameters win); when the guest still owes an ACK, the new announcer's first guest
 *    round waits for that ACK instead of raising a second interrupt.
 *  - The migration announce is armed by the incoming side (announce_arm_first_run) and
 *    starts on the VM's first run after the arrival.
 *  - Stopping the VM (pause, finish-migrate, shutdown), the start of an outgoing
 *    migration (even of a paused VM), announce_nic_reset() and unplugging a NIC cancel
 *    rounds in flight. Rounds are never migrated: the destination starts its own.
 */
#ifndef TERN_NET_ANNOUNCE_H
#define TERN_NET_ANNOUNCE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "main-loop.h"
#include "net/net.h"

#define ANNOUNCE_RARP_LEN 60
#define ANNOUNCE_RARP_TAGGED_LEN 64
/* At most this many (MAC, VLAN) frames per NIC and round. */
#define ANNOUNCE_MAX_ADDRS 1024

typedef struct AnnounceParameters {
    int64_t initial; /* ms, 0..100000, default 50 */
    int64_t max;     /* ms, 0..100000, default 550 */
    int64_t rounds;  /* 0..1000, default 5; 0: no announce */
    int64_t step;    /* ms, 1..10000, default 100 */
} AnnounceParameters;

void announce_parameters_default(AnnounceParameters *p);
/* Bounds with QEMU's messages ("Parameter 'announce_initial' expects a value between 0
 * and 100000"); `prefix` names the parameters: announce_parameters_check() uses
 * "announce_" (migrate-set-parameters, QEMU's text), announce-self uses "". */
bool announce_parameters_check(const AnnounceParameters *p, GError **errp);
bool announce_parameters_check_named(const AnnounceParameters *p, const char *prefix,
                                     GError **errp);
/* The delay in ms before round `round` (1-based count of rounds already sent). */
int64_t announce_round_delay_ms(const AnnounceParameters *p, int64_t rounds_done);

/* At start-up (vl.c): subscribe to run-state changes, so that any stop of the VM
 * cancels rounds in flight and an armed arrival announce goes out on the next start. */
void announce_init(void);
/* The incoming side, once the stream has loaded: on the VM's first run here (now with
 * autostart, or at `cont` after -S or from a paused source) announce every NIC with `*p`,
 * the announce-* migration parameters, at once, before the vCPUs run. `*p` is read at
 * that start, so a migrate-set-parameters before `cont` counts: `p` must stay valid. */
void announce_arm_first_run(const AnnounceParameters *p);

/* Start announcing every NIC (or those named in `interfaces`, NULL = all) with `p`,
 * under the announcer `id` (NULL: the unnamed announcer, which the migration announce
 * and announce-self without id share); replaces a running one of the same id. With
 * p->rounds == 0 it only stops that announcer. RARP rounds after the first run on
 * `rarp_clock`. */
void net_announce(const AnnounceParameters *p, const char *const *interfaces, const char *id,
                  TernClockType rarp_clock);
/* Stop every announcer (no event): a stop of the VM, and the outgoing side when
 * `migrate` is accepted (also for a VM already paused, which gets no stop). */
void announce_cancel_all(void);

/* The 60-byte RARP announce frame for `mac`, tagged with 802.1Q `vlan` when non-zero
 * (then 64 bytes). Returns the length written into buf (>= 64 bytes). */
size_t announce_build_rarp(uint8_t *buf, const uint8_t mac[ETH_ALEN], uint16_t vlan);

/* NIC models report guest announce progress here (query-announce, the demo timeline). */
void announce_note_guest_irq(NetClientState *nic);
void announce_note_guest_ack(NetClientState *nic);
/* The NIC was reset (driver unload, guest reboot): its rounds in flight are cancelled. */
void announce_nic_reset(NetClientState *nic);
/* The NIC goes away (net_client_free calls this). */
void announce_nic_cleanup(NetClientState *nic);

typedef enum {
    ANNOUNCE_MODE_NONE, /* never announced */
    ANNOUNCE_MODE_GUEST,
    ANNOUNCE_MODE_RARP,
} AnnounceMode;

/* What happened in an announcement, with its wall-clock time (query-announce's
 * history): the n-th guest interrupt or ACK on the NIC, or RARP round n of `frames`. */
typedef enum {
    ANNOUNCE_MARK_IRQ,
    ANNOUNCE_MARK_ACK,
    ANNOUNCE_MARK_RARP,
} AnnounceMarkKind;

typedef struct AnnounceMark {
    AnnounceMarkKind kind;
    uint64_t n;
    uint64_t frames;
    int64_t wall_us; /* g_get_real_time(), as QMP event timestamps */
} AnnounceMark;

#define ANNOUNCE_HISTORY_MAX 64

/* Per-NIC progress (query-announce). Counters are cumulative over the NIC's life; the
 * rounds are those of the announcer in flight (or the last one). */
typedef struct AnnounceNicStats {
    bool active;         /* an announcer has rounds in flight on this NIC */
    const char *id;      /* its id (NULL: unnamed); valid until the next announce call */
    AnnounceMode mode;   /* how the latest round went out */
    int64_t rounds_done; /* rounds sent by the current (or last) announcer (the further
                          * of its RARP and guest rounds) */
    int64_t rounds_left;
    bool awaiting_ack; /* guest mode: an announce request the guest has not ACKed */
    uint64_t guest_irqs, guest_acks, frames_sent;
    int64_t last_ack_ms;   /* virtual clock; -1 when none */
    const GArray *history; /* AnnounceMark, oldest first, at most ANNOUNCE_HISTORY_MAX;
                            * NULL before the first announcement */
} AnnounceNicStats;

void announce_nic_stats(NetClientState *nic, AnnounceNicStats *out);

#endif
