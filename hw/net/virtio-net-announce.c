/*
 * virtio-net-announce.c: virtio-net's half of the announce (VIRTIO_NET_F_GUEST_ANNOUNCE,
 * virtio 1.x 5.1.6.5.4 "Gratuitous Packet Sending"), and what the device knows for the
 * VMM-side fallback.
 *
 * net/announce.c paces every round (the guest's on the virtual clock) and calls the
 * announce hook once per guest round; this file only asks the guest (S_ANNOUNCE + a config
 * interrupt), takes the ACK and tells announce.c, which then arms the next round.
 * docs/virtio.md explains the rules: never during probe, at most one request outstanding, and
 * what a reset cancels.
 */
#include <string.h>
#include "hw/virtio-net.h"
#include "main-loop.h"
#include "net/announce.h"

bool virtio_net_guest_can_announce(const VirtIONet *n)
{
    const VirtIODevice *vdev = &n->vdev;
    /* Linux reads the status field (and so the bit) only with STATUS negotiated. */
    return virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_ANNOUNCE) &&
           virtio_has_feature(vdev, VIRTIO_NET_F_CTRL_VQ) &&
           virtio_has_feature(vdev, VIRTIO_NET_F_STATUS) && n->ctrl_vq->enabled;
}

static void announce_raise(VirtIONet *n)
{
    n->status |= VIRTIO_NET_S_ANNOUNCE;
    virtio_config_changed(&n->vdev);
    announce_note_guest_irq(n->nc);
}

bool virtio_net_announce(NetClientState *nc)
{
    VirtIONet *n = nc->opaque;
    VirtIODevice *vdev = &n->vdev;
    if (vdev->broken) {
        return false;
    }
    if (!(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        /* No driver, or one still probing: raising the bit now can hang Linux. The VMM's
         * frames go out this round; the guest is asked once its driver is ready. */
        n->announce_deferred = true;
        return false;
    }
    if (!virtio_net_guest_can_announce(n)) {
        return false;
    }
    if (!(n->status & VIRTIO_NET_S_ANNOUNCE) || n->announce_inherited) {
        /* An inherited request was made on the source host, where the guest may have
         * announced already: it is asked again here, once. */
        announce_raise(n);
    }
    /* Else the guest still owes the ACK of an earlier request made here: that one
     * stands, no second interrupt. */
    n->announce_inherited = false;
    return true;
}

void virtio_net_announce_driver_ok(VirtIONet *n)
{
    if (!n->announce_deferred) {
        return;
    }
    n->announce_deferred = false;
    if (virtio_net_guest_can_announce(n) && !(n->status & VIRTIO_NET_S_ANNOUNCE)) {
        announce_raise(n);
    }
}

uint8_t virtio_net_announce_ack(VirtIONet *n, uint8_t cmd, size_t len)
{
    /* ANNOUNCE_ACK carries no data; an ACK nobody asked for is an error (QEMU). */
    if (cmd != VIRTIO_NET_CTRL_ANNOUNCE_ACK || len != 0 ||
        !virtio_has_feature(&n->vdev, VIRTIO_NET_F_GUEST_ANNOUNCE) ||
        !(n->status & VIRTIO_NET_S_ANNOUNCE)) {
        return VIRTIO_NET_ERR;
    }
    n->status &= ~VIRTIO_NET_S_ANNOUNCE;
    n->announce_inherited = false;
    n->vdev.config_generation++;
    announce_note_guest_ack(n->nc);
    return VIRTIO_NET_OK;
}

void virtio_net_announce_reset(VirtIONet *n, bool driver_was_ok)
{
    n->status &= ~VIRTIO_NET_S_ANNOUNCE;
    n->announce_inherited = false;
    /*
     * A running driver went away (unload, reboot): rounds in flight are cancelled. A
     * reset with no driver running is a driver starting (Linux resets before probing):
     * it must not cancel the VMM's rounds nor forget a deferred request.
     */
    if (driver_was_ok) {
        n->announce_deferred = false;
        announce_nic_reset(n->nc);
    }
}

/* ---- what the guest uses, for the fallback ------------------------------------------ */

static bool learned_match(const VirtIONetLearned *l, const uint8_t *mac, uint16_t vlan)
{
    return l->vlan == vlan && memcmp(l->mac, mac, ETH_ALEN) == 0;
}

static void learned_touch(VirtIONet *n, unsigned i, uint64_t seq, int64_t now_ns)
{
    n->learned[i].seen = seq;
    n->learned[i].seen_ns = now_ns;
    n->learned_last = i;
}

void virtio_net_learn_tx(VirtIONet *n, const uint8_t *frame, size_t len, int64_t now_ns)
{
    static const uint8_t zero[ETH_ALEN];
    if (!n->announce_learned || len < 14) {
        return;
    }
    const uint8_t *src = frame + ETH_ALEN;
    if ((src[0] & 1) || memcmp(src, zero, ETH_ALEN) == 0) {
        return; /* not a station address */
    }
    uint16_t vlan = 0;
    if (frame[12] == 0x81 && frame[13] == 0x00) {
        if (len < 18) {
            return;
        }
        vlan = (frame[14] << 8 | frame[15]) & 0xfff;
        if (vlan == 0xfff) {
            return; /* reserved VID */
        }
    }
    uint64_t seq = ++n->learned_seq;
    /* Most frames come from the address the previous one came from. */
    if (n->learned_last < n->learned_count &&
        learned_match(&n->learned[n->learned_last], src, vlan)) {
        learned_touch(n, n->learned_last, seq, now_ns);
        return;
    }
    unsigned slot = n->learned_count, oldest = 0;
    for (unsigned i = 0; i < n->learned_count; i++) {
        if (learned_match(&n->learned[i], src, vlan)) {
            learned_touch(n, i, seq, now_ns);
            return;
        }
        if (n->learned[i].seen < n->learned[oldest].seen) {
            oldest = i;
        }
    }
    if (slot == VIRTIO_NET_LEARNED_MAX) {
        slot = oldest; /* full: the address not seen for longest goes */
    } else {
        n->learned_count++;
    }
    memcpy(n->learned[slot].mac, src, ETH_ALEN);
    n->learned[slot].vlan = vlan;
    learned_touch(n, slot, seq, now_ns);
}

static void add_addr(GArray *out, const uint8_t *mac, uint16_t vlan)
{
    NetAnnounceAddr a = {.vlan = vlan};
    memcpy(a.mac, mac, ETH_ALEN);
    g_array_append_val(out, a);
}

void virtio_net_announce_addresses(NetClientState *nc, GArray *out)
{
    VirtIONet *n = nc->opaque;
    if (!n->announce_learned) {
        add_addr(out, n->cmdline_mac, 0); /* QEMU's behaviour: the command-line MAC only */
        return;
    }
    add_addr(out, n->guest_mac, 0);
    for (unsigned i = 0; i < n->mac_table.first_multi; i++) {
        add_addr(out, n->mac_table.macs + i * ETH_ALEN, 0);
    }
    if (virtio_has_feature(&n->vdev, VIRTIO_NET_F_CTRL_VLAN)) {
        /* VID 0 is priority tagging (covered untagged), 4095 is reserved. */
        for (unsigned vid = 1; vid < VIRTIO_NET_MAX_VLAN - 1; vid++) {
            if (n->vlans[vid >> 5] & (1u << (vid & 31))) {
                add_addr(out, n->guest_mac, vid);
            }
        }
    }
    /* A learned address the guest has not sent from for the ageing time is not announced
     * (a VRRP MAC now held by another VM must stay there), unless its tables still name
     * it. The age counts the guest's running time: the virtual clock. */
    int64_t now = clock_get_ns(TERN_CLOCK_VIRTUAL);
    int64_t ageing_ns = (int64_t)n->announce_ageing * NS_PER_SEC;
    for (unsigned i = 0; i < n->learned_count; i++) {
        const VirtIONetLearned *l = &n->learned[i];
        if (now - l->seen_ns <= ageing_ns || virtio_net_filter_names(n, l->mac, l->vlan)) {
            add_addr(out, l->mac, l->vlan);
        }
    }
}
