/*
 * virtio-vmstate.c: the virtio core's migratable state, declared: device status, the
 * features offered to and accepted from the driver, config generation, ISR, the config
 * vector, the broken flag, and per queue its size, enable, ring addresses, indices,
 * vector and notification state.
 *
 * Refused on load, with the field named: another queue count (num_queues), features
 * the guest negotiated that this side does not offer (guest_features), a negotiated set
 * that breaks the device's rules, DRIVER_OK without FEATURES_OK, a queue larger than
 * this side offers, and an enabled ring outside this side's RAM. What the guest wrote in
 * its own rings is not judged here: the device checks it when it reads the ring, as it
 * does before a migration.
 */
#include <string.h>
#include "error.h"
#include "hw/virtio.h"

static bool virtqueue_post_load(void *opaque, int version_id, GError **errp)
{
    VirtQueue *vq = opaque;
    if (vq->num > vq->num_max) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "queue %u has %u entries, this side offers at most %u (start the "
                    "destination with the same queue sizes)",
                    vq->index, vq->num, vq->num_max);
        return false;
    }
    if (vq->enabled) {
        g_autofree char *why = virtqueue_check_layout(vq);
        if (why) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s on this side", why);
            return false;
        }
    }
    /* Chains are popped and pushed within one handler run: none is in flight here. */
    vq->inuse = 0;
    return true;
}

static const VMStateDescription vmstate_virtqueue = {
    .name = "virtqueue",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = virtqueue_post_load,
    .fields =
        (const VMStateField[]){
            VMSTATE_UINT16(num, VirtQueue),
            VMSTATE_BOOL(enabled, VirtQueue),
            VMSTATE_UINT64(desc, VirtQueue),
            VMSTATE_UINT64(avail, VirtQueue),
            VMSTATE_UINT64(used, VirtQueue),
            VMSTATE_UINT16(vector, VirtQueue),
            VMSTATE_UINT16(last_avail_idx, VirtQueue),
            VMSTATE_UINT16(used_idx, VirtQueue),
            VMSTATE_UINT16(signalled_used, VirtQueue),
            VMSTATE_BOOL(signalled_used_valid, VirtQueue),
            VMSTATE_BOOL(notification, VirtQueue),
            VMSTATE_END_OF_LIST(),
        },
};

/* "guest_announce (bit 21), ctrl_vlan (bit 19)" */
static char *feature_list(const VirtIODevice *vdev, uint64_t bits)
{
    GString *s = g_string_new(NULL);
    for (unsigned b = 0; b < 64; b++) {
        if (!(bits & VIRTIO_BIT(b))) {
            continue;
        }
        const char *name = vdev->ops->feature_name ? vdev->ops->feature_name(b) : NULL;
        g_string_append_printf(s, "%s%s%sbit %u%s", s->len ? ", " : "", name ? name : "",
                               name ? " (" : "", b, name ? ")" : "");
    }
    return g_string_free(s, FALSE);
}

static bool virtio_features_loadable(void *opaque, int version_id, GError **errp)
{
    VirtIODevice *vdev = opaque;
    uint64_t missing = vdev->guest_features & ~vdev->host_features;
    if (missing) {
        g_autofree char *list = feature_list(vdev, missing);
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "the guest negotiated %s, which this side does not offer (start the "
                    "destination with the same -device properties as the source)",
                    list);
        return false;
    }
    if (vdev->status & VIRTIO_CONFIG_S_FEATURES_OK) {
        const char *why = virtio_check_features(vdev, vdev->guest_features);
        if (why) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "negotiated features 0x%" G_GINT64_MODIFIER "x: %s",
                        vdev->guest_features, why);
            return false;
        }
    }
    return true;
}

static bool virtio_post_load(void *opaque, int version_id, GError **errp)
{
    VirtIODevice *vdev = opaque;
    if ((vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
        !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "device status 0x%02x has DRIVER_OK without FEATURES_OK", vdev->status);
        return false;
    }
    return true;
}

const VMStateDescription vmstate_virtio_device = {
    .name = "virtio",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = virtio_post_load,
    .fields =
        (const VMStateField[]){
            /* First: a different queue count says the devices differ, in plain words. */
            VMSTATE_UINT32_EQUAL(num_queues, VirtIODevice),
            VMSTATE_UINT8(status, VirtIODevice),
            VMSTATE_UINT64(driver_features, VirtIODevice),
            VMSTATE_UINT64(guest_features, VirtIODevice),
            VMSTATE_VALIDATE("guest_features", virtio_features_loadable),
            VMSTATE_UINT8(isr, VirtIODevice),
            VMSTATE_UINT8(config_generation, VirtIODevice),
            VMSTATE_UINT16(config_vector, VirtIODevice),
            VMSTATE_BOOL(broken, VirtIODevice),
            VMSTATE_STRUCT_VARRAY_UINT32(vq, VirtIODevice, num_queues, vmstate_virtqueue,
                                         VirtQueue),
            VMSTATE_END_OF_LIST(),
        },
};
