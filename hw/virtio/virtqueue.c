/*
 * virtqueue.c: split virtqueues (virtio 1.x, 2.7): taking descriptor chains from the
 * available ring, direct or through an indirect table, returning them through the used
 * ring, and deciding when the driver wants an interrupt (flags or EVENT_IDX).
 *
 * Every value read from the rings comes from an untrusted guest: indices, addresses,
 * lengths, flags and the shape of a chain are checked before the device uses them, and
 * the first bad one breaks the device (virtio_error) instead of being acted on.
 */
#include <string.h>
#include "hw/memory.h"
#include "hw/virtio.h"

/* Offsets inside the rings. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define USED_FLAGS 0
#define USED_IDX 2
#define USED_RING 4

typedef struct {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} VringDesc;

static bool vq_read16(VirtQueue *vq, uint64_t gpa, uint16_t *out)
{
    uint8_t b[2];
    if (!virtio_dma_read(vq->vdev, gpa, b, 2)) {
        virtio_error(vq->vdev, "queue %u: ring at 0x%" G_GINT64_MODIFIER "x unreachable",
                     vq->index, gpa);
        return false;
    }
    *out = b[0] | b[1] << 8;
    return true;
}

static bool vq_write16(VirtQueue *vq, uint64_t gpa, uint16_t v)
{
    uint8_t b[2] = {v & 0xff, v >> 8};
    if (!virtio_dma_write(vq->vdev, gpa, b, 2)) {
        virtio_error(vq->vdev, "queue %u: ring at 0x%" G_GINT64_MODIFIER "x unreachable",
                     vq->index, gpa);
        return false;
    }
    return true;
}

static bool vq_read_desc(VirtQueue *vq, uint64_t table, unsigned i, VringDesc *d)
{
    uint8_t b[VRING_DESC_SIZE];
    uint64_t gpa = table + (uint64_t)i * VRING_DESC_SIZE;
    if (!virtio_dma_read(vq->vdev, gpa, b, sizeof(b))) {
        virtio_error(vq->vdev, "queue %u: descriptor at 0x%" G_GINT64_MODIFIER "x unreachable",
                     vq->index, gpa);
        return false;
    }
    d->addr = 0;
    for (int k = 7; k >= 0; k--) {
        d->addr = d->addr << 8 | b[k];
    }
    d->len = b[8] | b[9] << 8 | b[10] << 16 | (uint32_t)b[11] << 24;
    d->flags = b[12] | b[13] << 8;
    d->next = b[14] | b[15] << 8;
    return true;
}

static bool vq_event_idx(const VirtQueue *vq)
{
    return virtio_has_feature(vq->vdev, VIRTIO_RING_F_EVENT_IDX);
}

void virtqueue_reset(VirtQueue *vq)
{
    vq->num = vq->num_max;
    vq->enabled = false;
    vq->desc = vq->avail = vq->used = 0;
    vq->vector = VIRTIO_NO_VECTOR;
    vq->last_avail_idx = vq->used_idx = 0;
    vq->signalled_used = 0;
    vq->signalled_used_valid = false;
    vq->notification = true;
    vq->inuse = 0;
}

bool virtqueue_ready(const VirtQueue *vq)
{
    return vq->enabled && !vq->vdev->broken;
}

/* How many chains the driver has made available; false (device broken) on a bad index. */
static bool vq_pending(VirtQueue *vq, uint16_t *pending)
{
    uint16_t avail_idx;
    if (!vq_read16(vq, vq->avail + AVAIL_IDX, &avail_idx)) {
        return false;
    }
    uint16_t n = avail_idx - vq->last_avail_idx;
    if (n > vq->num) {
        virtio_error(vq->vdev,
                     "queue %u: available index %u is %u entries ahead of %u (queue size %u)",
                     vq->index, avail_idx, n, vq->last_avail_idx, vq->num);
        return false;
    }
    *pending = n;
    return true;
}

bool virtqueue_empty(VirtQueue *vq)
{
    uint16_t n;
    return !virtqueue_ready(vq) || !vq_pending(vq, &n) || n == 0;
}

/*
 * Walk the chain at `head` into segs[] (device-readable first), checking it. Returns the
 * number of segments and the split point, or -1 with the device broken.
 */
static int vq_walk_chain(VirtQueue *vq, uint16_t head, VirtqSeg *segs, unsigned *out_num)
{
    VirtIODevice *vdev = vq->vdev;
    uint64_t table = vq->desc;
    unsigned table_size = vq->num;
    unsigned i = head, count = 0, nsegs = 0;
    bool indirect = false;
    VringDesc d;

    *out_num = 0;
    if (!vq_read_desc(vq, table, i, &d)) {
        return -1;
    }
    if (d.flags & VRING_DESC_F_INDIRECT) {
        if (!virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC)) {
            virtio_error(vdev, "queue %u: indirect descriptor without INDIRECT_DESC",
                         vq->index);
            return -1;
        }
        if (d.flags & VRING_DESC_F_NEXT) {
            virtio_error(vdev, "queue %u: indirect descriptor %u also has NEXT", vq->index, i);
            return -1;
        }
        if (d.len == 0 || d.len % VRING_DESC_SIZE ||
            d.len / VRING_DESC_SIZE > VIRTQUEUE_MAX_SIZE) {
            virtio_error(vdev, "queue %u: indirect table of %u bytes", vq->index, d.len);
            return -1;
        }
        if (d.addr & 15 || guest_ram_ptr(d.addr, d.len) == NULL) {
            virtio_error(vdev,
                         "queue %u: indirect table at 0x%" G_GINT64_MODIFIER
                         "x is misaligned or outside guest RAM",
                         vq->index, d.addr);
            return -1;
        }
        table = d.addr;
        table_size = d.len / VRING_DESC_SIZE;
        indirect = true;
        i = 0;
        if (!vq_read_desc(vq, table, i, &d)) {
            return -1;
        }
    }
    for (;;) {
        if (d.flags & VRING_DESC_F_INDIRECT) {
            virtio_error(vdev,
                         indirect ? "queue %u: indirect descriptor inside an indirect table"
                                  : "queue %u: indirect descriptor inside a chain",
                         vq->index);
            return -1;
        }
        /* A chain can visit each descriptor of its table once: more is a loop. */
        if (++count > table_size) {
            virtio_error(vdev, "queue %u: descriptor chain at %u loops or exceeds %u entries",
                         vq->index, head, table_size);
            return -1;
        }
        if (d.len == 0) {
            virtio_error(vdev, "queue %u: zero-sized buffer in chain at %u", vq->index, head);
            return -1;
        }
        if (d.addr + d.len < d.addr || guest_ram_ptr(d.addr, d.len) == NULL) {
            virtio_error(vdev,
                         "queue %u: buffer 0x%" G_GINT64_MODIFIER "x+%u outside guest RAM",
                         vq->index, d.addr, d.len);
            return -1;
        }
        /* The spec (2.7.5.2) forbids the driver chains over 4 GiB, but QEMU takes them
         * and so does tern: the totals are 64-bit and every device bounds what it uses
         * (a transmit that long is dropped as one frame; docs/qtest.md). */
        if (d.flags & VRING_DESC_F_WRITE) {
            segs[nsegs++] = (VirtqSeg){d.addr, d.len};
        } else {
            if (nsegs > *out_num) {
                virtio_error(vdev, "queue %u: device-readable buffer after a writable one",
                             vq->index);
                return -1;
            }
            segs[nsegs++] = (VirtqSeg){d.addr, d.len};
            (*out_num)++;
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            break;
        }
        i = d.next;
        if (i >= table_size) {
            virtio_error(vdev, "queue %u: next index %u out of range (%u)", vq->index, i,
                         table_size);
            return -1;
        }
        if (!vq_read_desc(vq, table, i, &d)) {
            return -1;
        }
    }
    return nsegs;
}

VirtQueueElement *virtqueue_pop(VirtQueue *vq)
{
    uint16_t pending, head;
    if (!virtqueue_ready(vq) || !vq_pending(vq, &pending) || pending == 0) {
        return NULL;
    }
    /* The ring entry is read after the index that published it. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (!vq_read16(vq, vq->avail + AVAIL_RING + 2 * (vq->last_avail_idx % vq->num), &head)) {
        return NULL;
    }
    if (head >= vq->num) {
        virtio_error(vq->vdev, "queue %u: head descriptor %u out of range (%u)", vq->index,
                     head, vq->num);
        return NULL;
    }
    VirtqSeg segs[VIRTQUEUE_MAX_SIZE];
    unsigned out_num;
    int n = vq_walk_chain(vq, head, segs, &out_num);
    if (n < 0) {
        return NULL;
    }
    VirtQueueElement *elem = g_malloc0(sizeof(*elem) + n * sizeof(VirtqSeg));
    elem->index = head;
    elem->out_num = out_num;
    elem->in_num = n - out_num;
    elem->out = (VirtqSeg *)(elem + 1);
    elem->in = elem->out + out_num;
    memcpy(elem->out, segs, n * sizeof(VirtqSeg));
    for (unsigned k = 0; k < elem->out_num; k++) {
        elem->out_len += elem->out[k].len;
    }
    for (unsigned k = 0; k < elem->in_num; k++) {
        elem->in_len += elem->in[k].len;
    }
    vq->last_avail_idx++;
    vq->inuse++;
    if (vq_event_idx(vq) && vq->notification) {
        vq_write16(vq, vq->used + USED_RING + VRING_USED_ELEM_SIZE * vq->num,
                   vq->last_avail_idx);
    }
    return elem;
}

void virtqueue_unpop(VirtQueue *vq, unsigned n)
{
    n = MIN(n, vq->inuse);
    vq->last_avail_idx -= n;
    vq->inuse -= n;
}

void virtqueue_elem_free(VirtQueueElement *elem)
{
    g_free(elem);
}

void virtqueue_fill(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len, unsigned idx)
{
    if (!virtqueue_ready(vq)) {
        return;
    }
    uint16_t slot = (uint16_t)(vq->used_idx + idx) % vq->num;
    uint8_t b[VRING_USED_ELEM_SIZE];
    uint32_t id = elem->index;
    len = MIN((uint64_t)len, elem->in_len);
    for (int k = 0; k < 4; k++) {
        b[k] = id >> (8 * k);
        b[4 + k] = len >> (8 * k);
    }
    uint64_t gpa = vq->used + USED_RING + (uint64_t)slot * VRING_USED_ELEM_SIZE;
    if (!virtio_dma_write(vq->vdev, gpa, b, sizeof(b))) {
        virtio_error(vq->vdev, "queue %u: used ring unreachable", vq->index);
    }
}

void virtqueue_flush(VirtQueue *vq, unsigned count)
{
    if (!virtqueue_ready(vq)) {
        return;
    }
    /* Entries first, then the index that publishes them. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    uint16_t new_idx = vq->used_idx + count;
    if (vq_write16(vq, vq->used + USED_IDX, new_idx)) {
        vq->used_idx = new_idx;
        vq->inuse -= MIN(count, vq->inuse);
    }
}

void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem, uint32_t len)
{
    virtqueue_fill(vq, elem, len, 0);
    virtqueue_flush(vq, 1);
}

void virtqueue_set_notification(VirtQueue *vq, bool enable)
{
    vq->notification = enable;
    if (!virtqueue_ready(vq)) {
        return;
    }
    if (vq_event_idx(vq)) {
        if (enable) {
            uint16_t avail_idx;
            if (vq_read16(vq, vq->avail + AVAIL_IDX, &avail_idx)) {
                vq_write16(vq, vq->used + USED_RING + VRING_USED_ELEM_SIZE * vq->num,
                           avail_idx);
            }
        }
    } else {
        uint16_t flags;
        if (vq_read16(vq, vq->used + USED_FLAGS, &flags)) {
            flags = enable ? flags & ~VRING_USED_F_NO_NOTIFY : flags | VRING_USED_F_NO_NOTIFY;
            vq_write16(vq, vq->used + USED_FLAGS, flags);
        }
    }
    /* The driver must see the new setting before we look at the ring again. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* virtio 1.x 2.7.10: whether the used index moved past the driver's event index. */
static bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool virtqueue_should_notify(VirtQueue *vq)
{
    if (!virtqueue_ready(vq)) {
        return false;
    }
    /* The used index must be visible before we read what the driver asked for. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!vq_event_idx(vq)) {
        uint16_t flags;
        return vq_read16(vq, vq->avail + AVAIL_FLAGS, &flags) &&
               !(flags & VRING_AVAIL_F_NO_INTERRUPT);
    }
    uint16_t used_event;
    if (!vq_read16(vq, vq->avail + AVAIL_RING + 2 * vq->num, &used_event)) {
        return false;
    }
    bool valid = vq->signalled_used_valid;
    uint16_t old = vq->signalled_used;
    vq->signalled_used_valid = true;
    vq->signalled_used = vq->used_idx;
    return !valid || vring_need_event(used_event, vq->used_idx, old);
}

static size_t vq_elem_copy(VirtIODevice *vdev, const VirtqSeg *segs, unsigned nsegs,
                           uint64_t offset, uint8_t *buf, size_t len, bool to_guest)
{
    size_t done = 0;
    for (unsigned k = 0; k < nsegs && done < len; k++) {
        if (offset >= segs[k].len) {
            offset -= segs[k].len;
            continue;
        }
        size_t chunk = MIN((uint64_t)len - done, segs[k].len - offset);
        uint64_t gpa = segs[k].addr + offset;
        bool ok = to_guest ? virtio_dma_write(vdev, gpa, buf + done, chunk)
                           : virtio_dma_read(vdev, gpa, buf + done, chunk);
        if (!ok) {
            virtio_error(vdev, "buffer at 0x%" G_GINT64_MODIFIER "x unreachable", gpa);
            return 0;
        }
        done += chunk;
        offset = 0;
    }
    return done;
}

int virtqueue_elem_map_out(VirtIODevice *vdev, const VirtQueueElement *elem, uint64_t offset,
                           struct iovec *iov, int max)
{
    int n = 0;
    for (unsigned k = 0; k < elem->out_num; k++) {
        const VirtqSeg *seg = &elem->out[k];
        if (offset >= seg->len) {
            offset -= seg->len;
            continue;
        }
        uint64_t gpa = seg->addr + offset, len = seg->len - offset;
        /* A zero-length read is the transport's permission check (bus mastering). */
        void *host = virtio_dma_read(vdev, gpa, NULL, 0) ? guest_ram_ptr(gpa, len) : NULL;
        if (!host) {
            virtio_error(vdev, "buffer at 0x%" G_GINT64_MODIFIER "x unreachable", gpa);
            return -1;
        }
        if (n == max) {
            return -1;
        }
        iov[n++] = (struct iovec){.iov_base = host, .iov_len = len};
        offset = 0;
    }
    return n;
}

size_t virtqueue_elem_read(VirtIODevice *vdev, const VirtQueueElement *elem, uint64_t offset,
                           void *buf, size_t len)
{
    return vq_elem_copy(vdev, elem->out, elem->out_num, offset, buf, len, false);
}

size_t virtqueue_elem_write(VirtIODevice *vdev, const VirtQueueElement *elem, uint64_t offset,
                            const void *buf, size_t len)
{
    return vq_elem_copy(vdev, elem->in, elem->in_num, offset, (uint8_t *)buf, len, true);
}
