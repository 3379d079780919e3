/*
 * virtio-net-vmstate.c: virtio-net's own migration state (version 2), saved by its
 * transport at the end of the transport's section ("0000:00:03.0/virtio-net", after the
 * virtio core and the PCI function; docs/migration-stream.md). In order: the queue-pair
 * count (must match), the current MAC, status (link and a pending S_ANNOUNCE), every
 * receive-filter field (modes, MAC table with its overflow flags and the unicast /
 * multicast split, the VLAN filter), the deferred announce request and the learned
 * (MAC, VLAN) table the VMM's RARP announces; in the subsection "virtio-net/learned-age",
 * how long ago each learned address was last seen (its ageing goes on across the move).
 * The core has loaded when these are: post_load derives from the negotiated features.
 *
 * Not migrated, on purpose: announce rounds in flight (net/announce.c starts fresh ones
 * when the destination first runs), the announce properties and the configured MAC
 * (each side's command line), NIC_RX_FILTER_CHANGED's arming (per monitor), frames
 * queued in the net layer (a frame in flight may be lost, as on a real wire).
 */
#include <string.h>
#include "error.h"
#include "hw/virtio-net.h"
#include "main-loop.h"

static bool mac_table_valid(void *opaque, int version_id, GError **errp)
{
    VirtIONetMacTable *t = opaque;
    if (t->in_use > VIRTIO_NET_MAC_TABLE_ENTRIES || t->first_multi > t->in_use) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%u entries with %u unicast do not fit a table of %d", t->in_use,
                    t->first_multi, VIRTIO_NET_MAC_TABLE_ENTRIES);
        return false;
    }
    return true;
}

static const VMStateDescription vmstate_mac_table = {
    .name = "virtio-net/mac-table",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields =
        (const VMStateField[]){
            VMSTATE_UINT32(in_use, VirtIONetMacTable),
            VMSTATE_UINT32(first_multi, VirtIONetMacTable),
            VMSTATE_VALIDATE("in_use", mac_table_valid),
            VMSTATE_BOOL(uni_overflow, VirtIONetMacTable),
            VMSTATE_BOOL(multi_overflow, VirtIONetMacTable),
            VMSTATE_BUFFER(macs, VirtIONetMacTable),
            VMSTATE_END_OF_LIST(),
        },
};

static const VMStateDescription vmstate_learned = {
    .name = "virtio-net/learned",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields =
        (const VMStateField[]){
            VMSTATE_BUFFER(mac, VirtIONetLearned),
            VMSTATE_UINT16(vlan, VirtIONetLearned),
            VMSTATE_UINT64(seen, VirtIONetLearned),
            VMSTATE_END_OF_LIST(),
        },
};

static bool learned_valid(void *opaque, int version_id, GError **errp)
{
    VirtIONet *n = opaque;
    if (n->learned_count && n->learned_last >= n->learned_count) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "entry %u is past the %u learned addresses", n->learned_last,
                    n->learned_count);
        return false;
    }
    int64_t now = clock_get_ns(TERN_CLOCK_VIRTUAL);
    for (unsigned i = 0; i < n->learned_count; i++) {
        if (n->learned[i].vlan >= VIRTIO_NET_MAX_VLAN - 1) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "learned address %u has VLAN %u",
                        i, n->learned[i].vlan);
            return false;
        }
        /* A stream without "virtio-net/learned-age" (an older tern): seen just now. */
        n->learned[i].seen_ns = now;
    }
    return true;
}

/*
 * The ages travel, not the times: each host's virtual clock has its own origin. An age is
 * milliseconds of the guest's running time since the address's last frame; on load it
 * becomes a time on this host's virtual clock. It is only ever compared with the ageing
 * time: it indexes and sizes nothing, and its count must be the learned count.
 */
static bool learned_age_needed(void *opaque)
{
    VirtIONet *n = opaque;
    return n->learned_count > 0;
}

static bool learned_age_pre_save(void *opaque, GError **errp)
{
    VirtIONet *n = opaque;
    int64_t now = clock_get_ns(TERN_CLOCK_VIRTUAL);
    n->learned_age_count = n->learned_count;
    for (unsigned i = 0; i < n->learned_count; i++) {
        n->learned_age_ms[i] = MAX(now - n->learned[i].seen_ns, 0) / NS_PER_MS;
    }
    return true;
}

static bool learned_age_load(void *opaque, int version_id, GError **errp)
{
    VirtIONet *n = opaque;
    if (n->learned_age_count != n->learned_count) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%u ages for %u learned addresses",
                    n->learned_age_count, n->learned_count);
        return false;
    }
    int64_t now = clock_get_ns(TERN_CLOCK_VIRTUAL);
    for (unsigned i = 0; i < n->learned_count; i++) {
        uint64_t age = n->learned_age_ms[i];
        if (age > VIRTIO_NET_LEARNED_AGE_MAX_MS) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "learned address %u is %" G_GUINT64_FORMAT " ms old, more than %llu", i,
                        age, VIRTIO_NET_LEARNED_AGE_MAX_MS);
            return false;
        }
        n->learned[i].seen_ns = now - (int64_t)age * NS_PER_MS;
    }
    return true;
}

static const VMStateDescription vmstate_learned_age = {
    .name = "virtio-net/learned-age",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = learned_age_needed,
    .pre_save = learned_age_pre_save,
    .fields =
        (const VMStateField[]){
            VMSTATE_UINT32(learned_age_count, VirtIONet),
            VMSTATE_UINT64_VARRAY_UINT32(learned_age_ms, VirtIONet, learned_age_count),
            VMSTATE_VALIDATE("learned_age", learned_age_load),
            VMSTATE_END_OF_LIST(),
        },
};

static bool vnet_post_load(void *opaque, int version_id, GError **errp)
{
    VirtIONet *n = opaque;
    if ((n->status & VIRTIO_NET_S_ANNOUNCE) && !virtio_net_guest_can_announce(n)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "status 0x%04x has S_ANNOUNCE, but the guest cannot answer it", n->status);
        return false;
    }
    /* Derived from the negotiated features; never through set_features, which would
     * reset the VLAN filter the driver programmed after FEATURES_OK. */
    virtio_net_apply_features(n, n->vdev.guest_features);
    /* The link as the guest last saw it (QEMU infers it the same way). */
    n->nc->link_down = !(n->status & VIRTIO_NET_S_LINK_UP);
    n->announce_inherited = n->status & VIRTIO_NET_S_ANNOUNCE;
    return true;
}

const VMStateDescription vmstate_virtio_net = {
    .name = "virtio-net",
    .version_id = 2,
    .minimum_version_id = 2,
    .post_load = vnet_post_load,
    .fields =
        (const VMStateField[]){
            VMSTATE_UINT16_EQUAL(max_queue_pairs, VirtIONet),
            VMSTATE_BUFFER_NAMED("mac", guest_mac, VirtIONet),
            VMSTATE_UINT16(status, VirtIONet),
            VMSTATE_BOOL(promisc, VirtIONet),
            VMSTATE_BOOL(allmulti, VirtIONet),
            VMSTATE_BOOL(alluni, VirtIONet),
            VMSTATE_BOOL(nomulti, VirtIONet),
            VMSTATE_BOOL(nouni, VirtIONet),
            VMSTATE_BOOL(nobcast, VirtIONet),
            VMSTATE_STRUCT(mac_table, VirtIONet, vmstate_mac_table, VirtIONetMacTable),
            VMSTATE_UINT32_ARRAY(vlans, VirtIONet),
            VMSTATE_BOOL(announce_deferred, VirtIONet),
            VMSTATE_UINT32(learned_count, VirtIONet),
            VMSTATE_STRUCT_VARRAY_UINT32(learned, VirtIONet, learned_count, vmstate_learned,
                                         VirtIONetLearned),
            VMSTATE_UINT32(learned_last, VirtIONet),
            VMSTATE_UINT64(learned_seq, VirtIONet),
            VMSTATE_VALIDATE("learned", learned_valid),
            VMSTATE_END_OF_LIST(),
        },
    .subsections = (const VMStateDescription *const[]){&vmstate_learned_age, NULL},
};
