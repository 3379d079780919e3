/*
 * announce.h: telling the network where a VM is now. After an incoming migration (and
 * on QMP announce-self) every NIC is announced for `rounds` rounds: a NIC whose model
 * takes the announce hook asks its guest; otherwise the VMM sends RARP frames for every
 * (MAC, VLAN) it knows. Round k (k >= 1) follows round k-1 after
 * min(initial + (k-1)*step, max) ms, QEMU's schedule.
 */
#ifndef TERN_NET_ANNOUNCE_H
#define TERN_NET_ANNOUNCE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "net/net.h"

typedef struct AnnounceParameters {
    int64_t initial; /* ms, 0..100000, default 50 */
    int64_t max;     /* ms, 0..100000, default 550 */
    int64_t rounds;  /* 0..1000, default 5; 0: no announce */
    int64_t step;    /* ms, 1..10000, default 100 */
} AnnounceParameters;

void announce_parameters_default(AnnounceParameters *p);
bool announce_parameters_check(const AnnounceParameters *p, GError **errp);
/* The delay in ms before round `round` (1-based count of rounds already sent). */
int64_t announce_round_delay_ms(const AnnounceParameters *p, int64_t rounds_done);

/* The migration parameters' announce-* values (migrate-set-parameters). */
AnnounceParameters *migrate_announce_params(void);

/* Start announcing every NIC (or those named in `interfaces`, NULL = all) with `p`,
 * under the announcer `id` (NULL: the migration announcer); replaces a running one of
 * the same id. */
void net_announce(const AnnounceParameters *p, const char *const *interfaces, const char *id);

/* The 60-byte RARP announce frame for `mac`, tagged with 802.1Q `vlan` when non-zero
 * (then 64 bytes). Returns the length written into buf (>= 64 bytes). */
size_t announce_build_rarp(uint8_t *buf, const uint8_t mac[ETH_ALEN], uint16_t vlan);

/* NIC models report guest announce progress here (query-announce, the demo timeline). */
void announce_note_guest_irq(NetClientState *nic);
void announce_note_guest_ack(NetClientState *nic);

#endif
