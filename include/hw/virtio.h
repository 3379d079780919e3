/*
 * virtio.h: the virtio 1.x device core, transport-independent: feature negotiation with
 * FEATURES_OK, the status state machine, reset, config space with its generation, the
 * ISR, and split virtqueues (descriptor chains, indirect tables, EVENT_IDX).
 *
 * A device model embeds VirtIODevice, fills in VirtioDeviceOps and adds its queues; a
 * transport (virtio-pci) binds itself with VirtioTransportOps and forwards the driver's
 * register accesses to the virtio_* calls below.
 *
 * The guest is untrusted: every address, length, index and chain it hands over is
 * checked. A bad one marks the device broken (NEEDS_RESET, a config interrupt, one
 * message) and the device stops touching its rings until the driver resets it.
 */
#ifndef TERN_HW_VIRTIO_H
#define TERN_HW_VIRTIO_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "migration/vmstate.h"
#include "options.h"

/* Device status bits (virtio 1.x, 2.1). */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE 0x01
#define VIRTIO_CONFIG_S_DRIVER 0x02
#define VIRTIO_CONFIG_S_DRIVER_OK 0x04
#define VIRTIO_CONFIG_S_FEATURES_OK 0x08
#define VIRTIO_CONFIG_S_NEEDS_RESET 0x40
#define VIRTIO_CONFIG_S_FAILED 0x80

/* Transport-independent feature bits. */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* Split ring layout. */
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1
#define VRING_DESC_SIZE 16
#define VRING_USED_ELEM_SIZE 8

/* ISR bits. */
#define VIRTIO_ISR_QUEUE 0x1
#define VIRTIO_ISR_CONFIG 0x2

#define VIRTIO_NO_VECTOR 0xffff
/* Largest queue (and largest indirect table) a device accepts. */
#define VIRTQUEUE_MAX_SIZE 1024
#define VIRTIO_QUEUES_MAX 8

#define VIRTIO_BIT(b) (1ULL << (b))

typedef struct VirtIODevice VirtIODevice;
typedef struct VirtQueue VirtQueue;

/* One guest buffer of a descriptor chain: guest-physical, checked to be RAM. */
typedef struct VirtqSeg {
    uint64_t addr;
    uint32_t len;
} VirtqSeg;

/* A popped descriptor chain: device-readable ("out") segments, then device-writable
 * ("in") ones, each list in chain order. */
typedef struct VirtQueueElement {
    uint16_t index; /* head descriptor: what the used ring reports */
    unsigned out_num, in_num;
    uint64_t out_len, in_len; /* byte totals */
    VirtqSeg *out, *in;
} VirtQueueElement;

typedef void VirtQueueHandler(VirtIODevice *vdev, VirtQueue *vq);

struct VirtQueue {
    VirtIODevice *vdev;
    unsigned index;
    uint16_t num;     /* size the driver chose (<= num_max) */
    uint16_t num_max; /* size the device offers */
    bool enabled;
    uint64_t desc, avail, used; /* guest-physical ring addresses */
    uint16_t vector;            /* MSI-X vector or VIRTIO_NO_VECTOR */
    uint16_t last_avail_idx;    /* next avail entry the device takes */
    uint16_t used_idx;          /* next used entry the device writes */
    uint16_t signalled_used;    /* used_idx at the last interrupt (EVENT_IDX) */
    bool signalled_used_valid;
    bool notification; /* false: the device asked the driver not to kick */
    unsigned inuse;    /* popped, not yet pushed */
    VirtQueueHandler *handle;
};

typedef struct VirtioDeviceOps {
    /* Optional: refuse a feature set at FEATURES_OK (dependencies between features);
     * return NULL to accept or a static reason. */
    const char *(*validate_features)(VirtIODevice *vdev, uint64_t features);
    /* Optional: the driver's features were accepted (FEATURES_OK). */
    void (*set_features)(VirtIODevice *vdev, uint64_t features);
    /* Fill vdev->config from the device state (before every read). */
    void (*get_config)(VirtIODevice *vdev, uint8_t *config);
    /* Optional: the driver wrote config space (vdev->config holds the new bytes). */
    void (*set_config)(VirtIODevice *vdev, const uint8_t *config);
    /* Optional: status changed from `old` to vdev->status (not called for reset). */
    void (*set_status)(VirtIODevice *vdev, uint8_t old);
    /* Device-specific reset (status 0 written, or the machine resets). */
    void (*reset)(VirtIODevice *vdev);
    /* Optional: the property that offers feature `bit` ("guest_announce"), for messages
     * that tell the user what to change; NULL when there is none. */
    const char *(*feature_name)(unsigned bit);
} VirtioDeviceOps;

typedef struct VirtioTransportOps {
    /* Raise an interrupt: an MSI-X vector, or INTx from the ISR when MSI-X is off. */
    void (*notify)(VirtIODevice *vdev, uint16_t vector);
    /* Bus-master access to guest memory; false when any byte is not reachable. */
    bool (*dma_read)(VirtIODevice *vdev, uint64_t gpa, void *buf, size_t len);
    bool (*dma_write)(VirtIODevice *vdev, uint64_t gpa, const void *buf, size_t len);
} VirtioTransportOps;

struct VirtIODevice {
    const char *name; /* for messages: the device id or model */
    uint16_t device_id;
    uint64_t host_features;   /* offered */
    uint64_t guest_features;  /* accepted (valid once FEATURES_OK) */
    uint64_t driver_features; /* as the driver wrote them, not yet accepted */
    uint8_t status;
    uint8_t isr;
    uint8_t config_generation;
    uint16_t config_vector;
    bool broken; /* a guest error was found; cleared by reset */
    size_t config_len;
    uint8_t *config;
    unsigned num_queues;
    VirtQueue vq[VIRTIO_QUEUES_MAX];
    const VirtioDeviceOps *ops;
    const VirtioTransportOps *transport;
    void *transport_opaque;
};

/*
 * A virtio device model as every transport sees it: a file under hw/ declares one of
 * these, its VirtioDeviceOps and its properties, and registers it with a transport
 * (VIRTIO_PCI_DEVICE_REGISTER); it holds no transport code. The transport asks the model
 * for a VirtIODevice, makes it visible to the guest, saves it in the transport's section
 * (the core, then the transport, then `vmsd`) and, at unplug, hands it back.
 */
typedef struct VirtioDeviceClass {
    const char *name;    /* "virtio-net": its section is "<bus address>/<name>" */
    uint32_t class_code; /* what a PCI transport shows (0x020000: Ethernet) */
    /* Build the device from its options (queues added, features offered). It refuses
     * unknown properties, those in `transport_props` excepted (the transport reads
     * them). `backend_path`: its QOM path, for events. NULL with errp set: nothing
     * left. */
    VirtIODevice *(*create)(const TernOpts *o, const char *const *transport_props,
                            const char *backend_path, GError **errp);
    /* Optional: the device is on its bus, reset and visible to the guest. */
    void (*realized)(VirtIODevice *vdev);
    /* Optional: unplug: stop whatever could still reach the transport. */
    void (*unrealize)(VirtIODevice *vdev);
    void (*free)(VirtIODevice *vdev);
    /* The device's own migration state, a struct with the VirtIODevice at
     * `vdev_offset` (subsections of its own allowed). */
    const VMStateDescription *vmsd;
    size_t vdev_offset;
} VirtioDeviceClass;

/* The model's state behind vdev (what its vmsd describes). */
static inline void *virtio_device_state(const VirtioDeviceClass *vdc, VirtIODevice *vdev)
{
    return (char *)vdev - vdc->vdev_offset;
}

void virtio_init(VirtIODevice *vdev, const char *name, uint16_t device_id, size_t config_len,
                 const VirtioDeviceOps *ops);
void virtio_cleanup(VirtIODevice *vdev);
void virtio_bind_transport(VirtIODevice *vdev, const VirtioTransportOps *ops, void *opaque);
VirtQueue *virtio_add_queue(VirtIODevice *vdev, uint16_t num_max, VirtQueueHandler *handle);

static inline bool virtio_has_feature(const VirtIODevice *vdev, unsigned bit)
{
    return vdev->guest_features & VIRTIO_BIT(bit);
}

static inline bool virtio_host_has_feature(const VirtIODevice *vdev, unsigned bit)
{
    return vdev->host_features & VIRTIO_BIT(bit);
}

static inline bool virtio_driver_ok(const VirtIODevice *vdev)
{
    return (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !vdev->broken;
}

/* Driver-side register semantics, called by the transport. */
void virtio_write_driver_features(VirtIODevice *vdev, unsigned select, uint32_t val);
uint32_t virtio_read_device_features(VirtIODevice *vdev, unsigned select);
uint32_t virtio_read_driver_features(VirtIODevice *vdev, unsigned select);
void virtio_set_status(VirtIODevice *vdev, uint8_t val);
void virtio_reset(VirtIODevice *vdev);
/* Read and clear the ISR (the transport lowers INTx). */
uint8_t virtio_isr_read_clear(VirtIODevice *vdev);
/* Config space, little-endian, `size` 1/2/4/8; out-of-range reads are 0. */
uint64_t virtio_config_read(VirtIODevice *vdev, uint64_t offset, unsigned size);
void virtio_config_write(VirtIODevice *vdev, uint64_t offset, uint64_t val, unsigned size);
/* Why `f` cannot be accepted at FEATURES_OK (not offered, no VERSION_1, the device's own
 * rules), or NULL. */
const char *virtio_check_features(VirtIODevice *vdev, uint64_t f);
/* The driver kicked queue `index`. */
void virtio_queue_notify(VirtIODevice *vdev, unsigned index);
/* The driver set queue_enable: checks the ring addresses. */
void virtio_queue_enable(VirtQueue *vq);

/* Device side. */
/* Config space changed: bump the generation; interrupt the driver once it is ready. */
void virtio_config_changed(VirtIODevice *vdev);
/* Interrupt the driver for `vq` unless it suppressed it (flags or EVENT_IDX). */
void virtio_notify(VirtIODevice *vdev, VirtQueue *vq);
/* A guest error: mark the device broken (NEEDS_RESET + config interrupt), report it
 * once, stop processing. */
void virtio_error(VirtIODevice *vdev, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
bool virtio_dma_read(VirtIODevice *vdev, uint64_t gpa, void *buf, size_t len);
bool virtio_dma_write(VirtIODevice *vdev, uint64_t gpa, const void *buf, size_t len);

/* Why the queue's size and ring addresses cannot be used (caller frees), or NULL. */
char *virtqueue_check_layout(const VirtQueue *vq);

/*
 * Migration (hw/virtio/virtio-vmstate.c): the core's state, every queue included, as a
 * struct a device embeds in its section (VMSTATE_VIRTIO_DEVICE). On load the queue count
 * must match this side's, the negotiated features must be ones this side offers (the
 * message names the property), and every enabled ring must fit this side's RAM and
 * queue sizes. Nothing is re-negotiated: ops->set_features is not called (a device
 * recomputes what it derives from the features in its own post_load, after its own
 * fields, so that state the driver programmed after FEATURES_OK survives).
 */
extern const VMStateDescription vmstate_virtio_device;
#define VMSTATE_VIRTIO_DEVICE(f, st)                                                           \
    {                                                                                          \
        .name = "virtio", .type = VMS_STRUCT, .offset = offsetof(st, f),                       \
        .size = sizeof(VirtIODevice), .vmsd = &vmstate_virtio_device                           \
    }

/* Virtqueues (hw/virtio/virtqueue.c). */
bool virtqueue_ready(const VirtQueue *vq);
/* Next available chain, checked; NULL when the ring is empty or the device is broken. */
VirtQueueElement *virtqueue_pop(VirtQueue *vq);
/* Give back the last `n` popped chains (not yet pushed), as if never taken. */
void virtqueue_unpop(VirtQueue *vq, unsigned n);
/* Put `elem` in the used ring at position used_idx + `idx` with `len` bytes written;
 * virtqueue_flush publishes `count` such entries. */
void virtqueue_fill(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len, unsigned idx);
void virtqueue_flush(VirtQueue *vq, unsigned count);
void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len);
void virtqueue_elem_free(VirtQueueElement *elem);
/* True when the driver has made nothing available (or the queue is not usable). */
bool virtqueue_empty(VirtQueue *vq);
/* Ask the driver to kick (or not) when it adds buffers; enabling returns with the ring
 * re-checked by the caller (virtqueue_empty) to close the race. */
void virtqueue_set_notification(VirtQueue *vq, bool enable);
/* Decide whether adding to the used ring since the last interrupt needs one. */
bool virtqueue_should_notify(VirtQueue *vq);
void virtqueue_reset(VirtQueue *vq);
/* The device-readable bytes of `elem` from `offset` on, as host iovecs pointing straight
 * into guest RAM (no copy; valid until the element is pushed back): at most `max`
 * entries. Returns the count, or -1 when the device may not read guest memory now (bus
 * mastering off: virtio_error says so) or `max` is too small. */
int virtqueue_elem_map_out(VirtIODevice *vdev, const VirtQueueElement *elem, uint64_t offset,
                           struct iovec *iov, int max);
/* Copy between an element's segments and a flat buffer; returns bytes copied (short
 * when the element ends first, or 0 with the device marked broken on a DMA error). */
size_t virtqueue_elem_read(VirtIODevice *vdev, const VirtQueueElement *elem, uint64_t offset,
                           void *buf, size_t len);
size_t virtqueue_elem_write(VirtIODevice *vdev, const VirtQueueElement *elem, uint64_t offset,
                            const void *buf, size_t len);

#endif
