/*
 * virtio.c: the virtio device core: feature negotiation, the status state machine, reset,
 * config space and its generation, the ISR, interrupts and the broken-device rule.
 * Virtqueue walking lives in virtqueue.c.
 */
#include <stdarg.h>
#include <string.h>
#include "error.h"
#include "hw/memory.h"
#include "hw/virtio.h"

void virtio_init(VirtIODevice *vdev, const char *name, uint16_t device_id, size_t config_len,
                 const VirtioDeviceOps *ops)
{
    memset(vdev, 0, sizeof(*vdev));
    vdev->name = name;
    vdev->device_id = device_id;
    vdev->config_len = config_len;
    vdev->config = g_malloc0(config_len ? config_len : 1);
    vdev->config_vector = VIRTIO_NO_VECTOR;
    vdev->ops = ops;
}

void virtio_cleanup(VirtIODevice *vdev)
{
    g_free(vdev->config);
    vdev->config = NULL;
}

void virtio_bind_transport(VirtIODevice *vdev, const VirtioTransportOps *ops, void *opaque)
{
    vdev->transport = ops;
    vdev->transport_opaque = opaque;
}

VirtQueue *virtio_add_queue(VirtIODevice *vdev, uint16_t num_max, VirtQueueHandler *handle)
{
    g_assert(vdev->num_queues < VIRTIO_QUEUES_MAX);
    g_assert(num_max > 0 && num_max <= VIRTQUEUE_MAX_SIZE && !(num_max & (num_max - 1)));
    VirtQueue *vq = &vdev->vq[vdev->num_queues];
    vq->vdev = vdev;
    vq->index = vdev->num_queues++;
    vq->num_max = num_max;
    vq->handle = handle;
    virtqueue_reset(vq);
    return vq;
}

bool virtio_dma_read(VirtIODevice *vdev, uint64_t gpa, void *buf, size_t len)
{
    if (vdev->transport && vdev->transport->dma_read) {
        return vdev->transport->dma_read(vdev, gpa, buf, len);
    }
    return dma_read(gpa, buf, len);
}

bool virtio_dma_write(VirtIODevice *vdev, uint64_t gpa, const void *buf, size_t len)
{
    if (vdev->transport && vdev->transport->dma_write) {
        return vdev->transport->dma_write(vdev, gpa, buf, len);
    }
    return dma_write(gpa, buf, len);
}

static void virtio_raise(VirtIODevice *vdev, uint8_t isr_bit, uint16_t vector)
{
    vdev->isr |= isr_bit;
    if (vdev->transport && vdev->transport->notify) {
        vdev->transport->notify(vdev, vector);
    }
}

void virtio_config_changed(VirtIODevice *vdev)
{
    vdev->config_generation++;
    /* Never interrupt a driver that is still probing (see docs/virtio.md). */
    if (!(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        return;
    }
    virtio_raise(vdev, VIRTIO_ISR_CONFIG, vdev->config_vector);
}

void virtio_notify(VirtIODevice *vdev, VirtQueue *vq)
{
    if (vdev->broken || !virtqueue_should_notify(vq)) {
        return;
    }
    virtio_raise(vdev, VIRTIO_ISR_QUEUE, vq->vector);
}

void virtio_error(VirtIODevice *vdev, const char *fmt, ...)
{
    if (vdev->broken) {
        return; /* one report per breakage; the driver's reset clears it */
    }
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    tern_error_report("%s: guest error: %s; the device stops until the driver resets it",
                      vdev->name, msg);
    vdev->broken = true;
    vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    virtio_config_changed(vdev);
}

uint32_t virtio_read_device_features(VirtIODevice *vdev, unsigned select)
{
    return select < 2 ? (uint32_t)(vdev->host_features >> (32 * select)) : 0;
}

uint32_t virtio_read_driver_features(VirtIODevice *vdev, unsigned select)
{
    return select < 2 ? (uint32_t)(vdev->driver_features >> (32 * select)) : 0;
}

void virtio_write_driver_features(VirtIODevice *vdev, unsigned select, uint32_t val)
{
    /* After FEATURES_OK the set is fixed until reset. */
    if (select >= 2 || (vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
        return;
    }
    uint64_t mask = 0xffffffffULL << (32 * select);
    vdev->driver_features = (vdev->driver_features & ~mask) | ((uint64_t)val << (32 * select));
}

const char *virtio_check_features(VirtIODevice *vdev, uint64_t f)
{
    if (f & ~vdev->host_features) {
        return "the driver accepted features the device did not offer";
    }
    if (!(f & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
        return "this modern-only device needs VIRTIO_F_VERSION_1";
    }
    return vdev->ops->validate_features ? vdev->ops->validate_features(vdev, f) : NULL;
}

void virtio_reset(VirtIODevice *vdev)
{
    if (vdev->ops->reset) {
        vdev->ops->reset(vdev);
    }
    vdev->status = 0;
    vdev->guest_features = 0;
    vdev->driver_features = 0;
    vdev->isr = 0;
    vdev->broken = false;
    vdev->config_vector = VIRTIO_NO_VECTOR;
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        virtqueue_reset(&vdev->vq[i]);
    }
}

void virtio_set_status(VirtIODevice *vdev, uint8_t val)
{
    if (val == 0) {
        virtio_reset(vdev);
        return;
    }
    uint8_t old = vdev->status;
    /* NEEDS_RESET belongs to the device: the driver can neither set nor clear it. */
    val = (val & ~VIRTIO_CONFIG_S_NEEDS_RESET) | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
    if ((val & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
        const char *why = virtio_check_features(vdev, vdev->driver_features);
        if (why) {
            /* The driver re-reads status, sees FEATURES_OK clear and gives up. */
            g_debug("%s: FEATURES_OK refused: %s", vdev->name, why);
            val &= ~(VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
        } else {
            vdev->guest_features = vdev->driver_features;
            if (vdev->ops->set_features) {
                vdev->ops->set_features(vdev, vdev->guest_features);
            }
        }
    }
    /* A modern driver sets FEATURES_OK before DRIVER_OK; without it nothing was agreed. */
    if (!(val & VIRTIO_CONFIG_S_FEATURES_OK)) {
        val &= ~VIRTIO_CONFIG_S_DRIVER_OK;
    }
    vdev->status = val;
    if (val != old && vdev->ops->set_status) {
        vdev->ops->set_status(vdev, old);
    }
    /* Buffers made available before DRIVER_OK are processed now. */
    if ((val & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
        for (unsigned i = 0; i < vdev->num_queues; i++) {
            VirtQueue *vq = &vdev->vq[i];
            if (vq->enabled && vq->handle && !vdev->broken) {
                vq->handle(vdev, vq);
            }
        }
    }
}

uint8_t virtio_isr_read_clear(VirtIODevice *vdev)
{
    uint8_t v = vdev->isr;
    vdev->isr = 0;
    return v;
}

static void virtio_config_fill(VirtIODevice *vdev)
{
    if (vdev->ops->get_config) {
        vdev->ops->get_config(vdev, vdev->config);
    }
}

uint64_t virtio_config_read(VirtIODevice *vdev, uint64_t offset, unsigned size)
{
    if (size > 8 || offset > vdev->config_len || size > vdev->config_len - offset) {
        return ~0ULL >> (64 - 8 * (size ? MIN(size, 8u) : 1));
    }
    virtio_config_fill(vdev);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)vdev->config[offset + i] << (8 * i);
    }
    return v;
}

void virtio_config_write(VirtIODevice *vdev, uint64_t offset, uint64_t val, unsigned size)
{
    if (size > 8 || offset > vdev->config_len || size > vdev->config_len - offset) {
        return;
    }
    virtio_config_fill(vdev);
    for (unsigned i = 0; i < size; i++) {
        vdev->config[offset + i] = val >> (8 * i);
    }
    if (vdev->ops->set_config) {
        vdev->ops->set_config(vdev, vdev->config);
    }
}

void virtio_queue_notify(VirtIODevice *vdev, unsigned index)
{
    if (index >= vdev->num_queues) {
        return;
    }
    VirtQueue *vq = &vdev->vq[index];
    /* Before DRIVER_OK the device must not consume buffers: the kick is remembered by
     * the ring itself and served when DRIVER_OK is set. */
    if (!vq->enabled || !vq->handle || !virtio_driver_ok(vdev)) {
        return;
    }
    vq->handle(vdev, vq);
}

/* Whether [gpa, gpa + len) is guest RAM. */
static bool virtio_ram_range_ok(uint64_t gpa, uint64_t len)
{
    return gpa + len >= gpa && guest_ram_ptr(gpa, len) != NULL;
}

char *virtqueue_check_layout(const VirtQueue *vq)
{
    uint64_t n = vq->num;
    if (n == 0 || n > vq->num_max || (n & (n - 1))) {
        return g_strdup_printf("queue %u: size %u is not a power of 2 up to %u", vq->index,
                               vq->num, vq->num_max);
    }
    if ((vq->desc & 15) || (vq->avail & 1) || (vq->used & 3)) {
        return g_strdup_printf("queue %u: ring addresses are misaligned", vq->index);
    }
    if (!virtio_ram_range_ok(vq->desc, n * VRING_DESC_SIZE) ||
        !virtio_ram_range_ok(vq->avail, 6 + 2 * n) ||
        !virtio_ram_range_ok(vq->used, 6 + VRING_USED_ELEM_SIZE * n)) {
        return g_strdup_printf("queue %u: ring outside guest RAM", vq->index);
    }
    return NULL;
}

void virtio_queue_enable(VirtQueue *vq)
{
    if (vq->enabled) {
        return;
    }
    g_autofree char *why = virtqueue_check_layout(vq);
    if (why) {
        virtio_error(vq->vdev, "%s", why);
        return;
    }
    vq->enabled = true;
}
