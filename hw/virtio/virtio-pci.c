/*
 * virtio-pci.c: the modern virtio-pci transport (virtio 1.x, 4.1). The driver finds the
 * common, ISR, device-config and notify structures through vendor capabilities, all in
 * BAR4; this file turns its register accesses into virtio core calls and the core's
 * interrupts into MSI-X messages or INTx.
 */
#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "error.h"
#include "hw/irq.h"
#include "hw/virtio-pci.h"
#include "main-loop.h"

static VirtQueue *proxy_queue(VirtIOPCIProxy *p)
{
    return p->queue_sel < p->vdev->num_queues ? &p->vdev->vq[p->queue_sel] : NULL;
}

static uint16_t proxy_valid_vector(VirtIOPCIProxy *p, uint16_t v)
{
    /* The driver reads the vector back to learn the device could not take it. */
    return v < p->nvectors ? v : VIRTIO_NO_VECTOR;
}

/* ---- ioeventfd fast path ------------------------------------------------------------ */

static gboolean proxy_ioeventfd_ready(gint fd, GIOCondition cond, gpointer opaque)
{
    VirtQueue *vq = opaque;
    uint64_t cnt;
    if (read(fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN) {
        return G_SOURCE_CONTINUE;
    }
    virtio_queue_notify(vq->vdev, vq->index);
    return G_SOURCE_CONTINUE;
}

static void proxy_ioeventfd_stop(VirtIOPCIProxy *p)
{
    const AccelOps *ops = accel_get_ops();
    if (!p->ioeventfd_started) {
        return;
    }
    for (unsigned i = 0; i < p->vdev->num_queues; i++) {
        if (p->ioeventfd[i] < 0) {
            continue;
        }
        if (ops->del_ioeventfd) {
            ops->del_ioeventfd(p->ioeventfd[i], ADDR_SPACE_MEMORY,
                               p->ioeventfd_base + i * VIRTIO_PCI_NOTIFY_MULTIPLIER, 2, false,
                               0);
        }
        g_source_destroy(p->ioeventfd_src[i]);
        g_source_unref(p->ioeventfd_src[i]);
        p->ioeventfd_src[i] = NULL;
        close(p->ioeventfd[i]);
        p->ioeventfd[i] = -1;
    }
    p->ioeventfd_started = false;
}

/* With an accelerator that can, kicks signal an eventfd instead of exiting to the MMIO
 * handler; the handler stays correct for accelerators without it (qtest). */
static void proxy_ioeventfd_start(VirtIOPCIProxy *p)
{
    const AccelOps *ops = accel_get_ops();
    uint64_t bar = pci_bar_mapped_address(&p->pci, VIRTIO_PCI_MODERN_BAR);
    if (p->ioeventfd_started || !ops->add_ioeventfd || bar == PCI_BAR_UNMAPPED) {
        return;
    }
    p->ioeventfd_base = bar + VIRTIO_PCI_NOTIFY_OFFSET;
    p->ioeventfd_started = true;
    for (unsigned i = 0; i < p->vdev->num_queues; i++) {
        p->ioeventfd[i] = -1;
        if (!p->vdev->vq[i].enabled) {
            continue;
        }
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        if (!ops->add_ioeventfd(fd, ADDR_SPACE_MEMORY,
                                p->ioeventfd_base + i * VIRTIO_PCI_NOTIFY_MULTIPLIER, 2, false,
                                0)) {
            close(fd);
            continue;
        }
        p->ioeventfd[i] = fd;
        p->ioeventfd_src[i] = g_unix_fd_source_new(fd, G_IO_IN);
        g_source_set_callback(p->ioeventfd_src[i],
                              (GSourceFunc)(void (*)(void))proxy_ioeventfd_ready,
                              &p->vdev->vq[i], NULL);
        g_source_attach(p->ioeventfd_src[i], main_loop_context());
    }
}

/* ---- common configuration ----------------------------------------------------------- */

static uint64_t proxy_common_read(VirtIOPCIProxy *p, uint64_t off)
{
    VirtIODevice *vdev = p->vdev;
    VirtQueue *vq = proxy_queue(p);
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        return p->dfselect;
    case VIRTIO_PCI_COMMON_DF:
        return virtio_read_device_features(vdev, p->dfselect);
    case VIRTIO_PCI_COMMON_GFSELECT:
        return p->gfselect;
    case VIRTIO_PCI_COMMON_GF:
        return virtio_read_driver_features(vdev, p->gfselect);
    case VIRTIO_PCI_COMMON_MSIX:
        return vdev->config_vector;
    case VIRTIO_PCI_COMMON_NUMQ:
        return vdev->num_queues;
    case VIRTIO_PCI_COMMON_STATUS:
        return vdev->status;
    case VIRTIO_PCI_COMMON_CFGGENERATION:
        return vdev->config_generation;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        return p->queue_sel;
    }
    if (!vq) {
        return 0; /* a queue the device does not have: size 0 */
    }
    switch (off) {
    case VIRTIO_PCI_COMMON_Q_SIZE:
        return vq->num;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        return vq->vector;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        return vq->enabled;
    case VIRTIO_PCI_COMMON_Q_NOFF:
        return vq->index;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
        return (uint32_t)vq->desc;
    case VIRTIO_PCI_COMMON_Q_DESCHI:
        return vq->desc >> 32;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
        return (uint32_t)vq->avail;
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
        return vq->avail >> 32;
    case VIRTIO_PCI_COMMON_Q_USEDLO:
        return (uint32_t)vq->used;
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        return vq->used >> 32;
    }
    return 0;
}

static void set_lo(uint64_t *field, uint64_t v)
{
    *field = (*field & ~0xffffffffULL) | (uint32_t)v;
}

static void set_hi(uint64_t *field, uint64_t v)
{
    *field = (*field & 0xffffffffULL) | (v << 32);
}

static void proxy_set_status(VirtIOPCIProxy *p, uint8_t val)
{
    VirtIODevice *vdev = p->vdev;
    bool was_ok = vdev->status & VIRTIO_CONFIG_S_DRIVER_OK;
    if (val == 0 || !(val & VIRTIO_CONFIG_S_DRIVER_OK)) {
        proxy_ioeventfd_stop(p);
    }
    virtio_set_status(vdev, val);
    if (val == 0) {
        pci_set_irq(&p->pci, false); /* the ISR was cleared with everything else */
    }
    if (!was_ok && (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        proxy_ioeventfd_start(p);
    }
}

static void proxy_common_write(VirtIOPCIProxy *p, uint64_t off, uint64_t v, unsigned size)
{
    VirtIODevice *vdev = p->vdev;
    VirtQueue *vq = proxy_queue(p);
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        p->dfselect = v;
        return;
    case VIRTIO_PCI_COMMON_GFSELECT:
        p->gfselect = v;
        return;
    case VIRTIO_PCI_COMMON_GF:
        virtio_write_driver_features(vdev, p->gfselect, v);
        return;
    case VIRTIO_PCI_COMMON_MSIX:
        vdev->config_vector = proxy_valid_vector(p, v);
        return;
    case VIRTIO_PCI_COMMON_STATUS:
        proxy_set_status(p, v & 0xff);
        return;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        p->queue_sel = v;
        return;
    }
    if (!vq) {
        return;
    }
    if (off == VIRTIO_PCI_COMMON_Q_MSIX) {
        vq->vector = proxy_valid_vector(p, v);
        return;
    }
    /* The ring layout is fixed once the queue is enabled (until reset). */
    if (vq->enabled) {
        return;
    }
    switch (off) {
    case VIRTIO_PCI_COMMON_Q_SIZE:
        vq->num = v;
        break;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        if (v == 1) {
            virtio_queue_enable(vq);
        }
        break;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
        size == 8 ? (void)(vq->desc = v) : set_lo(&vq->desc, v);
        break;
    case VIRTIO_PCI_COMMON_Q_DESCHI:
        set_hi(&vq->desc, v);
        break;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
        size == 8 ? (void)(vq->avail = v) : set_lo(&vq->avail, v);
        break;
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
        set_hi(&vq->avail, v);
        break;
    case VIRTIO_PCI_COMMON_Q_USEDLO:
        size == 8 ? (void)(vq->used = v) : set_lo(&vq->used, v);
        break;
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        set_hi(&vq->used, v);
        break;
    }
}

/* ---- the modern BAR ----------------------------------------------------------------- */

static uint64_t proxy_bar_read(void *opaque, uint64_t addr, unsigned size)
{
    VirtIOPCIProxy *p = opaque;
    uint64_t off = addr % VIRTIO_PCI_REGION_SIZE;
    switch (addr / VIRTIO_PCI_REGION_SIZE * VIRTIO_PCI_REGION_SIZE) {
    case VIRTIO_PCI_COMMON_OFFSET:
        if (size == 8 && !(off & 7)) {
            return proxy_common_read(p, off) | proxy_common_read(p, off + 4) << 32;
        }
        return proxy_common_read(p, off) & (~0ULL >> (64 - 8 * size));
    case VIRTIO_PCI_ISR_OFFSET:
        if (off == 0) {
            uint8_t isr = virtio_isr_read_clear(p->vdev);
            pci_set_irq(&p->pci, false);
            return isr;
        }
        return 0;
    case VIRTIO_PCI_DEVICE_OFFSET:
        return virtio_config_read(p->vdev, off, size);
    }
    return 0; /* notify region reads */
}

static void proxy_bar_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    VirtIOPCIProxy *p = opaque;
    uint64_t off = addr % VIRTIO_PCI_REGION_SIZE;
    switch (addr / VIRTIO_PCI_REGION_SIZE * VIRTIO_PCI_REGION_SIZE) {
    case VIRTIO_PCI_COMMON_OFFSET:
        proxy_common_write(p, off, val, size);
        break;
    case VIRTIO_PCI_DEVICE_OFFSET:
        virtio_config_write(p->vdev, off, val, size);
        break;
    case VIRTIO_PCI_NOTIFY_OFFSET:
        /* The address names the queue (queue_notify_off = index). */
        if (off % VIRTIO_PCI_NOTIFY_MULTIPLIER == 0) {
            virtio_queue_notify(p->vdev, off / VIRTIO_PCI_NOTIFY_MULTIPLIER);
        }
        break;
    }
}

static const MemoryRegionOps proxy_bar_ops = {
    .read = proxy_bar_read,
    .write = proxy_bar_write,
};

/* ---- transport ops for the core ----------------------------------------------------- */

static VirtIOPCIProxy *proxy_of(VirtIODevice *vdev)
{
    return vdev->transport_opaque;
}

static void proxy_notify(VirtIODevice *vdev, uint16_t vector)
{
    VirtIOPCIProxy *p = proxy_of(vdev);
    if (msix_enabled(&p->pci)) {
        if (vector < p->nvectors) {
            msix_notify(&p->pci, vector);
        }
        return;
    }
    pci_set_irq(&p->pci, vdev->isr != 0);
}

static bool proxy_dma_read(VirtIODevice *vdev, uint64_t gpa, void *buf, size_t len)
{
    return pci_dma_read(&proxy_of(vdev)->pci, gpa, buf, len);
}

static bool proxy_dma_write(VirtIODevice *vdev, uint64_t gpa, const void *buf, size_t len)
{
    return pci_dma_write(&proxy_of(vdev)->pci, gpa, buf, len);
}

static const VirtioTransportOps proxy_transport_ops = {
    .notify = proxy_notify,
    .dma_read = proxy_dma_read,
    .dma_write = proxy_dma_write,
};

/* ---- PCI configuration access capability -------------------------------------------- */

/* Where the window of the PCI cfg capability points, or false when it cannot be used. */
static bool proxy_cfg_window(VirtIOPCIProxy *p, uint32_t *off, unsigned *len)
{
    const uint8_t *cap = p->pci.config + p->cfg_cap;
    *off = pci_get_long(cap + VIRTIO_PCI_CAP_OFFSET);
    *len = pci_get_long(cap + VIRTIO_PCI_CAP_LENGTH);
    return cap[VIRTIO_PCI_CAP_BAR] == VIRTIO_PCI_MODERN_BAR &&
           (*len == 1 || *len == 2 || *len == 4) && (*off & (*len - 1)) == 0 &&
           *off + *len <= VIRTIO_PCI_MODERN_BAR_SIZE;
}

/*
 * pci_cfg_data is plain config space: the bus has no read hook, so the window is read
 * when the driver points it somewhere (and after each write through it). The ISR is not
 * read that way: reading it clears it, which must happen only on a real read.
 */
static void proxy_cfg_refresh(VirtIOPCIProxy *p)
{
    uint32_t off;
    unsigned len;
    uint32_t v = 0;
    if (proxy_cfg_window(p, &off, &len) &&
        off / VIRTIO_PCI_REGION_SIZE * VIRTIO_PCI_REGION_SIZE != VIRTIO_PCI_ISR_OFFSET) {
        v = proxy_bar_read(p, off, len);
    }
    pci_set_long(p->pci.config + p->cfg_cap + VIRTIO_PCI_CFG_DATA, v);
}

static void proxy_config_write_hook(PCIDevice *d, uint32_t addr, uint32_t val, unsigned len)
{
    VirtIOPCIProxy *p = (VirtIOPCIProxy *)d;
    uint32_t data = p->cfg_cap + VIRTIO_PCI_CFG_DATA;
    if (addr + len <= p->cfg_cap || addr >= p->cfg_cap + 20u) {
        return;
    }
    uint32_t off;
    unsigned wlen;
    if (addr >= data && proxy_cfg_window(p, &off, &wlen)) {
        uint32_t v = pci_get_long(d->config + data);
        proxy_bar_write(p, off, v & (0xffffffffu >> (32 - 8 * wlen)), wlen);
    }
    proxy_cfg_refresh(p);
}

static void proxy_pci_reset(PCIDevice *d)
{
    VirtIOPCIProxy *p = (VirtIOPCIProxy *)d;
    proxy_ioeventfd_stop(p);
    virtio_reset(p->vdev);
    p->dfselect = p->gfselect = 0;
    p->queue_sel = 0;
}

/* ---- migration ---------------------------------------------------------------------- */

static bool proxy_vector_ok(VirtIOPCIProxy *p, uint16_t v, int queue, GError **errp)
{
    if (v == VIRTIO_NO_VECTOR || v < p->nvectors) {
        return true;
    }
    g_autofree char *what =
        queue < 0 ? g_strdup("the config interrupt") : g_strdup_printf("queue %d", queue);
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                "%s uses MSI-X vector %u, the device has %u", what, v, p->nvectors);
    return false;
}

bool virtio_pci_post_load(void *opaque, int version_id, GError **errp)
{
    VirtIOPCIProxy *p = opaque;
    VirtIODevice *vdev = p->vdev;
    if (!proxy_vector_ok(p, vdev->config_vector, -1, errp)) {
        return false;
    }
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        if (!proxy_vector_ok(p, vdev->vq[i].vector, (int)i, errp)) {
            return false;
        }
    }
    /* The driver had set DRIVER_OK on the source: kicks go through eventfds again. */
    if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) {
        proxy_ioeventfd_start(p);
    }
    return true;
}

const VMStateField vmstate_virtio_pci_fields[] = {
    VMSTATE_PCI_DEVICE(pci, VirtIOPCIProxy),
    VMSTATE_UINT32(dfselect, VirtIOPCIProxy),
    VMSTATE_UINT32(gfselect, VirtIOPCIProxy),
    VMSTATE_UINT16(queue_sel, VirtIOPCIProxy),
    VMSTATE_END_OF_LIST(),
};

/* ---- realize ------------------------------------------------------------------------ */

static bool proxy_add_cap(VirtIOPCIProxy *p, uint8_t type, uint8_t cap_len, uint32_t offset,
                          uint32_t length, uint8_t *at, GError **errp)
{
    uint8_t c = pci_add_capability(&p->pci, PCI_CAP_ID_VNDR, cap_len, errp);
    if (!c) {
        return false;
    }
    uint8_t *cap = p->pci.config + c;
    cap[VIRTIO_PCI_CAP_LEN] = cap_len;
    cap[VIRTIO_PCI_CAP_CFG_TYPE] = type;
    cap[VIRTIO_PCI_CAP_BAR] = VIRTIO_PCI_MODERN_BAR;
    pci_set_long(cap + VIRTIO_PCI_CAP_OFFSET, offset);
    pci_set_long(cap + VIRTIO_PCI_CAP_LENGTH, length);
    if (at) {
        *at = c;
    }
    return true;
}

bool virtio_pci_realize(VirtIOPCIProxy *p, VirtIODevice *vdev, const char *name,
                        uint32_t class_code, int slot, GError **errp)
{
    PCIDevice *d = &p->pci;
    p->vdev = vdev;
    p->nvectors = vdev->num_queues + 1;
    for (unsigned i = 0; i < VIRTIO_QUEUES_MAX; i++) {
        p->ioeventfd[i] = -1;
    }
    pci_device_init(d, name, PCI_VENDOR_ID_VIRTIO,
                    PCI_DEVICE_ID_VIRTIO_MODERN_BASE + vdev->device_id, class_code, 1,
                    PCI_VENDOR_ID_VIRTIO, PCI_SUBSYSTEM_ID_VIRTIO);
    d->config_write_hook = proxy_config_write_hook;
    d->reset = proxy_pci_reset;
    virtio_bind_transport(vdev, &proxy_transport_ops, p);

    memory_region_init(&p->modern_bar, ADDR_SPACE_MEMORY, "virtio-pci-modern",
                       VIRTIO_PCI_MODERN_BAR_SIZE, &proxy_bar_ops, p);
    pci_register_bar(d, VIRTIO_PCI_MODERN_BAR,
                     PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH,
                     &p->modern_bar);
    uint8_t notify;
    if (!msix_init(d, p->nvectors, VIRTIO_PCI_MSIX_BAR, 0, VIRTIO_PCI_MSIX_BAR, 0x800, errp) ||
        !proxy_add_cap(p, VIRTIO_PCI_CAP_COMMON_CFG, 16, VIRTIO_PCI_COMMON_OFFSET,
                       VIRTIO_PCI_REGION_SIZE, NULL, errp) ||
        !proxy_add_cap(p, VIRTIO_PCI_CAP_ISR_CFG, 16, VIRTIO_PCI_ISR_OFFSET,
                       VIRTIO_PCI_REGION_SIZE, NULL, errp) ||
        !proxy_add_cap(p, VIRTIO_PCI_CAP_DEVICE_CFG, 16, VIRTIO_PCI_DEVICE_OFFSET,
                       VIRTIO_PCI_REGION_SIZE, NULL, errp) ||
        !proxy_add_cap(p, VIRTIO_PCI_CAP_NOTIFY_CFG, 20, VIRTIO_PCI_NOTIFY_OFFSET,
                       VIRTIO_PCI_REGION_SIZE, &notify, errp) ||
        !proxy_add_cap(p, VIRTIO_PCI_CAP_PCI_CFG, 20, 0, 0, &p->cfg_cap, errp)) {
        msix_uninit(d); /* the caller frees the device, not what MSI-X allocated */
        return false;
    }
    pci_set_long(d->config + notify + VIRTIO_PCI_NOTIFY_CAP_MULT, VIRTIO_PCI_NOTIFY_MULTIPLIER);
    /* The driver moves the PCI cfg window: bar, offset, length and data are writable. */
    uint8_t c = p->cfg_cap;
    d->config[c + VIRTIO_PCI_CAP_BAR] = 0;
    d->wmask[c + VIRTIO_PCI_CAP_BAR] = 0xff;
    memset(d->wmask + c + VIRTIO_PCI_CAP_OFFSET, 0xff, 12);
    if (!pci_bus_add_device(d, slot, errp)) {
        msix_uninit(d);
        return false;
    }
    return true;
}

void virtio_pci_unrealize(VirtIOPCIProxy *p)
{
    proxy_ioeventfd_stop(p);
    pci_bus_remove_device(&p->pci);
}
