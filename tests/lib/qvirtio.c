/*
 * qvirtio.c: the test-side virtio-pci modern driver (see qvirtio.h).
 */
#include <string.h>
#include "qvirtio.h"

/* Vendor capability layout (virtio 1.x 4.1.4). */
#define CAP_ID_VNDR 0x09
#define CAP_CFG_TYPE 3
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_NOTIFY_MULT 16
#define TYPE_COMMON 1
#define TYPE_NOTIFY 2
#define TYPE_ISR 3
#define TYPE_DEVICE 4
#define TYPE_PCI 5

/* Common configuration registers. */
#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0c
#define C_MSIX 0x10
#define C_NUMQ 0x12
#define C_STATUS 0x14
#define C_GEN 0x15
#define C_QSEL 0x16
#define C_QSIZE 0x18
#define C_QMSIX 0x1a
#define C_QENABLE 0x1c
#define C_QNOFF 0x1e
#define C_QDESC 0x20
#define C_QAVAIL 0x28
#define C_QUSED 0x30

QVirtioDevice *qvirtio_pci_find(QTestState *qts, uint16_t virtio_id)
{
    QVirtioDevice *d = g_new0(QVirtioDevice, 1);
    d->qts = qts;
    qpci_init(&d->bus, qts);
    d->pdev = qpci_device_find(&d->bus, QVIRTIO_VENDOR, 0x1040 + virtio_id);
    if (!d->pdev) {
        g_free(d);
        return NULL;
    }
    d->bar = -1;
    bool mapped[6] = {false};
    for (uint8_t c = qpci_find_capability(d->pdev, CAP_ID_VNDR, 0); c;
         c = qpci_find_capability(d->pdev, CAP_ID_VNDR, c)) {
        uint8_t type = qpci_readb(d->pdev, c + CAP_CFG_TYPE);
        uint8_t bar = qpci_readb(d->pdev, c + CAP_BAR);
        uint32_t off = qpci_readl(d->pdev, c + CAP_OFFSET);
        if (type == TYPE_PCI) {
            d->cfg_cap = c;
            continue;
        }
        g_assert_cmpuint(bar, <, 6);
        if (!mapped[bar]) {
            qpci_iomap(d->pdev, bar);
            mapped[bar] = true;
        }
        g_assert_true(d->bar < 0 || d->bar == bar); /* tern keeps them in one BAR */
        d->bar = bar;
        switch (type) {
        case TYPE_COMMON:
            d->common = off;
            break;
        case TYPE_NOTIFY:
            d->notify = off;
            d->notify_mult = qpci_readl(d->pdev, c + CAP_NOTIFY_MULT);
            break;
        case TYPE_ISR:
            d->isr = off;
            break;
        case TYPE_DEVICE:
            d->device = off;
            break;
        }
    }
    g_assert_cmpint(d->bar, >=, 0);
    qpci_device_enable(d->pdev);
    return d;
}

void qvirtio_free(QVirtioDevice *d)
{
    if (d) {
        g_free(d->pdev);
        g_free(d);
    }
}

QVirtioDevice *qvirtio_clone(const QVirtioDevice *d, QTestState *qts)
{
    QVirtioDevice *c = g_memdup2(d, sizeof(*d));
    c->qts = qts;
    c->bus.qts = qts;
    c->pdev = g_memdup2(d->pdev, sizeof(*d->pdev));
    c->pdev->bus = &c->bus;
    return c;
}

void qvirtio_enable_msix(QVirtioDevice *d)
{
    qpci_msix_enable(d->pdev);
    d->msix = true;
}

static uint8_t common_readb(QVirtioDevice *d, unsigned off)
{
    return qpci_io_readb(d->pdev, d->bar, d->common + off);
}

static uint16_t common_readw(QVirtioDevice *d, unsigned off)
{
    return qpci_io_readw(d->pdev, d->bar, d->common + off);
}

static uint32_t common_readl(QVirtioDevice *d, unsigned off)
{
    return qpci_io_readl(d->pdev, d->bar, d->common + off);
}

static void common_writeb(QVirtioDevice *d, unsigned off, uint8_t v)
{
    qpci_io_writeb(d->pdev, d->bar, d->common + off, v);
}

static void common_writew(QVirtioDevice *d, unsigned off, uint16_t v)
{
    qpci_io_writew(d->pdev, d->bar, d->common + off, v);
}

static void common_writel(QVirtioDevice *d, unsigned off, uint32_t v)
{
    qpci_io_writel(d->pdev, d->bar, d->common + off, v);
}

static void common_write64(QVirtioDevice *d, unsigned off, uint64_t v)
{
    /* Two 32-bit writes, as Linux does. */
    common_writel(d, off, (uint32_t)v);
    common_writel(d, off + 4, v >> 32);
}

uint64_t qvirtio_device_features(QVirtioDevice *d)
{
    common_writel(d, C_DFSELECT, 0);
    uint64_t lo = common_readl(d, C_DF);
    common_writel(d, C_DFSELECT, 1);
    uint64_t hi = common_readl(d, C_DF);
    return hi << 32 | lo;
}

void qvirtio_set_driver_features(QVirtioDevice *d, uint64_t f)
{
    common_writel(d, C_GFSELECT, 0);
    common_writel(d, C_GF, (uint32_t)f);
    common_writel(d, C_GFSELECT, 1);
    common_writel(d, C_GF, f >> 32);
}

uint8_t qvirtio_get_status(QVirtioDevice *d)
{
    return common_readb(d, C_STATUS);
}

void qvirtio_set_status(QVirtioDevice *d, uint8_t s)
{
    common_writeb(d, C_STATUS, s);
}

void qvirtio_reset(QVirtioDevice *d)
{
    qvirtio_set_status(d, 0);
    g_assert_cmpuint(qvirtio_get_status(d), ==, 0);
}

uint8_t qvirtio_config_generation(QVirtioDevice *d)
{
    return common_readb(d, C_GEN);
}

uint16_t qvirtio_num_queues(QVirtioDevice *d)
{
    return common_readw(d, C_NUMQ);
}

void qvirtio_set_config_vector(QVirtioDevice *d, uint16_t v)
{
    common_writew(d, C_MSIX, v);
}

bool qvirtio_negotiate(QVirtioDevice *d, uint64_t features)
{
    qvirtio_reset(d);
    qvirtio_set_status(d, QVIRTIO_S_ACKNOWLEDGE);
    qvirtio_set_status(d, QVIRTIO_S_ACKNOWLEDGE | QVIRTIO_S_DRIVER);
    qvirtio_set_driver_features(d, features);
    qvirtio_set_status(d, QVIRTIO_S_ACKNOWLEDGE | QVIRTIO_S_DRIVER | QVIRTIO_S_FEATURES_OK);
    bool ok = qvirtio_get_status(d) & QVIRTIO_S_FEATURES_OK;
    if (ok && d->msix) {
        qvirtio_set_config_vector(d, QVIRTIO_CONFIG_VECTOR);
        g_assert_cmpuint(common_readw(d, C_MSIX), ==, QVIRTIO_CONFIG_VECTOR);
    }
    return ok;
}

void qvirtio_driver_ok(QVirtioDevice *d)
{
    qvirtio_set_status(d, qvirtio_get_status(d) | QVIRTIO_S_DRIVER_OK);
}

uint8_t qvirtio_isr(QVirtioDevice *d)
{
    return qpci_io_readb(d->pdev, d->bar, d->isr);
}

uint8_t qvirtio_config_readb(QVirtioDevice *d, uint64_t off)
{
    return qpci_io_readb(d->pdev, d->bar, d->device + off);
}

uint16_t qvirtio_config_readw(QVirtioDevice *d, uint64_t off)
{
    return qpci_io_readw(d->pdev, d->bar, d->device + off);
}

uint32_t qvirtio_config_readl(QVirtioDevice *d, uint64_t off)
{
    return qpci_io_readl(d->pdev, d->bar, d->device + off);
}

void qvirtio_config_writeb(QVirtioDevice *d, uint64_t off, uint8_t v)
{
    qpci_io_writeb(d->pdev, d->bar, d->device + off, v);
}

bool qvirtio_take_config_irq(QVirtioDevice *d)
{
    g_assert_true(d->msix);
    return qpci_msix_take(d->pdev, QVIRTIO_CONFIG_VECTOR);
}

bool qvirtio_take_queue_irq(QVirtQueue *vq)
{
    g_assert_true(vq->dev->msix);
    return qpci_msix_take(vq->dev->pdev, QVIRTIO_QUEUE_VECTOR(vq->index));
}

void qvirtqueue_select(QVirtioDevice *d, unsigned index)
{
    common_writew(d, C_QSEL, index);
}

uint16_t qvirtqueue_read_size(QVirtioDevice *d)
{
    return common_readw(d, C_QSIZE);
}

QVirtQueue *qvirtqueue_setup(QVirtioDevice *d, unsigned index, uint16_t size)
{
    QVirtQueue *vq = g_new0(QVirtQueue, 1);
    vq->dev = d;
    vq->index = index;
    qvirtqueue_select(d, index);
    uint16_t max = qvirtqueue_read_size(d);
    g_assert_cmpuint(max, >, 0);
    vq->size = size ? size : max;
    g_assert_cmpuint(vq->size, <=, max);
    common_writew(d, C_QSIZE, vq->size);
    vq->desc = qtest_alloc_aligned(d->qts, 16 * vq->size, 4096);
    vq->avail = qtest_alloc_aligned(d->qts, 6 + 2 * vq->size, 4096);
    vq->used = qtest_alloc_aligned(d->qts, 6 + 8 * vq->size, 4096);
    common_write64(d, C_QDESC, vq->desc);
    common_write64(d, C_QAVAIL, vq->avail);
    common_write64(d, C_QUSED, vq->used);
    if (d->msix) {
        common_writew(d, C_QMSIX, QVIRTIO_QUEUE_VECTOR(index));
        g_assert_cmpuint(common_readw(d, C_QMSIX), ==, QVIRTIO_QUEUE_VECTOR(index));
    }
    vq->notify_off = common_readw(d, C_QNOFF);
    common_writew(d, C_QENABLE, 1);
    return vq;
}

void qvirtio_desc_encode(uint8_t b[16], uint64_t addr, uint32_t len, uint16_t flags,
                         uint16_t next)
{
    for (int k = 0; k < 8; k++) {
        b[k] = addr >> (8 * k);
    }
    for (int k = 0; k < 4; k++) {
        b[8 + k] = len >> (8 * k);
    }
    b[12] = flags;
    b[13] = flags >> 8;
    b[14] = next;
    b[15] = next >> 8;
}

void qvirtio_write_desc(QTestState *qts, uint64_t table, uint16_t i, uint64_t addr,
                        uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t b[16];
    qvirtio_desc_encode(b, addr, len, flags, next);
    qtest_memwrite(qts, table + 16ULL * i, b, sizeof(b));
}

void qvirtqueue_desc(QVirtQueue *vq, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    qvirtio_write_desc(vq->dev->qts, vq->desc, i, addr, len, flags, next);
}

uint16_t qvirtqueue_add(QVirtQueue *vq, uint64_t addr, uint32_t len, bool write, bool first)
{
    QTestState *qts = vq->dev->qts;
    uint16_t i = vq->next_desc;
    vq->next_desc = (vq->next_desc + 1) % vq->size;
    if (!first) {
        /* Link the previous descriptor to this one. */
        uint16_t prev = (i + vq->size - 1) % vq->size;
        uint64_t p = vq->desc + 16ULL * prev;
        qtest_writew(qts, p + 12, qtest_readw(qts, p + 12) | QVIRTIO_DESC_F_NEXT);
        qtest_writew(qts, p + 14, i);
    }
    qvirtqueue_desc(vq, i, addr, len, write ? QVIRTIO_DESC_F_WRITE : 0, 0);
    return i;
}

void qvirtqueue_set_avail_idx(QVirtQueue *vq, uint16_t idx)
{
    qtest_writew(vq->dev->qts, vq->avail + 2, idx);
}

void qvirtqueue_publish(QVirtQueue *vq, uint16_t head)
{
    QTestState *qts = vq->dev->qts;
    qtest_writew(qts, vq->avail + 4 + 2 * (vq->avail_idx % vq->size), head);
    qvirtqueue_set_avail_idx(vq, ++vq->avail_idx);
}

void qvirtqueue_kick(QVirtQueue *vq)
{
    QVirtioDevice *d = vq->dev;
    qpci_io_writew(d->pdev, d->bar, d->notify + (uint64_t)vq->notify_off * d->notify_mult,
                   vq->index);
}

void qvirtqueue_submit(QVirtQueue *vq, uint16_t head)
{
    qvirtqueue_publish(vq, head);
    qvirtqueue_kick(vq);
}

uint16_t qvirtqueue_used_idx(QVirtQueue *vq)
{
    return qtest_readw(vq->dev->qts, vq->used + 2);
}

bool qvirtqueue_get_used(QVirtQueue *vq, uint32_t *id, uint32_t *len)
{
    if (qvirtqueue_used_idx(vq) == vq->last_used) {
        return false;
    }
    uint64_t e = vq->used + 4 + 8ULL * (vq->last_used % vq->size);
    uint32_t i = qtest_readl(vq->dev->qts, e), l = qtest_readl(vq->dev->qts, e + 4);
    vq->last_used++;
    if (id) {
        *id = i;
    }
    if (len) {
        *len = l;
    }
    return true;
}

void qvirtqueue_wait_used(QVirtQueue *vq, uint32_t *id, uint32_t *len)
{
    gint64 deadline = g_get_monotonic_time() + QVIRTIO_TIMEOUT_MS * 1000LL;
    while (!qvirtqueue_get_used(vq, id, len)) {
        if (g_get_monotonic_time() > deadline) {
            g_error("queue %u: no used buffer after %d ms", vq->index, QVIRTIO_TIMEOUT_MS);
        }
        g_usleep(1000);
    }
}

void qvirtqueue_set_used_event(QVirtQueue *vq, uint16_t idx)
{
    qtest_writew(vq->dev->qts, vq->avail + 4 + 2 * vq->size, idx);
}
