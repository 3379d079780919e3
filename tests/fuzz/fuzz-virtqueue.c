/*
 * fuzz-virtqueue.c: libFuzzer target for the split-virtqueue walker (hw/virtio/
 * virtqueue.c): descriptor chains, indirect tables, ring indices and EVENT_IDX, all of
 * them guest-written.
 *
 * Input: a 24-byte header (negotiated ring features, queue size, ring addresses, the
 * device's ring indices, what the device does with each chain), then the guest RAM
 * image: rings, tables and buffers. The device is a bare VirtIODevice on real guest
 * RAM (guest_ram_init), as in tests/unit/test-virtio-queue.c. It pops every chain it
 * is given, reads all it may read, writes all it may write, pushes or gives chains
 * back, and asks whether to interrupt; the walker must refuse every bad chain without
 * touching memory it did not check.
 */
#include <string.h>
#include "fuzz-vm.h"
#include "hw/memory.h"
#include "hw/virtio.h"

#define RAM_SIZE (256 * 1024)
#define MAX_POPS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const VirtioDeviceOps dev_ops;

/* A ring address: mostly inside RAM and aligned, sometimes anything at all. */
static uint64_t ring_addr(FuzzInput *in)
{
    uint32_t v = fuzz_u32(in);
    return v & 0x80000000u ? (uint64_t)v << 8 : (v & (RAM_SIZE - 1)) & ~15u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static VirtIODevice vdev;
    static uint8_t *ram;
    if (!ram) {
        g_assert(guest_ram_init(RAM_SIZE, RAM_SIZE, NULL));
        ram = guest_ram_ptr(0, RAM_SIZE);
        virtio_init(&vdev, "fuzz-virtqueue", 42, 0, &dev_ops);
        virtio_add_queue(&vdev, VIRTQUEUE_MAX_SIZE, NULL);
    }
    FuzzInput in = {data, size};
    uint8_t features = fuzz_u8(&in);
    uint8_t qsize_log = fuzz_u8(&in);
    VirtQueue *vq = &vdev.vq[0];
    virtio_reset(&vdev);
    vdev.guest_features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
                          (features & 1 ? VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) : 0) |
                          (features & 2 ? VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) : 0);
    vdev.status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
    /* Sizes that are not powers of two must be refused by virtio_queue_enable. */
    vq->num = features & 4 ? fuzz_u16(&in) : 1u << (qsize_log % 11);
    vq->desc = ring_addr(&in);
    vq->avail = ring_addr(&in);
    vq->used = ring_addr(&in);
    vq->last_avail_idx = fuzz_u16(&in);
    vq->used_idx = fuzz_u16(&in);
    uint8_t script = fuzz_u8(&in);
    memset(ram, 0, RAM_SIZE);
    fuzz_bytes(&in, ram, RAM_SIZE);

    virtio_queue_enable(vq);
    virtqueue_set_notification(vq, script & 1);
    VirtQueueElement *held[MAX_POPS];
    unsigned nheld = 0;
    static uint8_t buf[64 * 1024];
    for (unsigned i = 0; i < MAX_POPS && !virtqueue_empty(vq); i++) {
        VirtQueueElement *e = virtqueue_pop(vq);
        if (!e) {
            break;
        }
        g_assert(e->out_num + e->in_num <= VIRTQUEUE_MAX_SIZE);
        size_t got = virtqueue_elem_read(&vdev, e, script & 2 ? 1 : 0, buf, sizeof(buf));
        g_assert(got <= e->out_len);
        struct iovec iov[8];
        virtqueue_elem_map_out(&vdev, e, 0, iov, G_N_ELEMENTS(iov));
        size_t put = virtqueue_elem_write(&vdev, e, 0, buf, MIN(sizeof(buf), e->in_len));
        g_assert(put <= e->in_len);
        held[nheld++] = e;
    }
    /* Give the last chains back (as a device out of room does), fill the rest out of
     * order and publish them at once (as a device with many chains in flight does). */
    unsigned back = script & 4 ? nheld / 2 : 0, keep = nheld - back;
    virtqueue_unpop(vq, back);
    for (unsigned i = 0; i < keep; i++) {
        virtqueue_fill(vq, held[keep - 1 - i], held[keep - 1 - i]->in_len, i);
    }
    virtqueue_flush(vq, keep);
    virtqueue_should_notify(vq);
    for (unsigned i = 0; i < nheld; i++) {
        virtqueue_elem_free(held[i]);
    }
    return 0;
}
