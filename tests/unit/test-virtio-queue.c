/*
 * test-virtio-queue.c: the virtio core without a transport: feature negotiation and the
 * status machine, config generation and interrupts, split-ring walking (direct and
 * indirect chains, EVENT_IDX, unpop) and every kind of bad descriptor, over guest RAM
 * made with guest_ram_init and a "driver" written right here.
 */
#include <string.h>
#include "bswap.h"
#include "hw/memory.h"
#include "hw/virtio.h"
#include "../lib/qvirtio.h"

#define RAM_SIZE (16 << 20)
#define QSIZE 8
#define DESC 0x10000
#define AVAIL 0x11000
#define USED 0x12000
#define ITABLE 0x13000
#define BUF 0x20000

#define FEATURES                                                                               \
    (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) |                    \
     VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) | VIRTIO_BIT(3))

typedef struct {
    VirtIODevice vdev;
    VirtQueue *vq;
    unsigned irqs[4]; /* per vector */
    unsigned resets, handled;
    uint16_t avail_idx; /* driver side */
} Fixture;

static void fx_notify(VirtIODevice *vdev, uint16_t vector)
{
    Fixture *f = vdev->transport_opaque;
    if (vector < 4) {
        f->irqs[vector]++;
    }
}

static const VirtioTransportOps fx_transport = {.notify = fx_notify};

static void fx_reset(VirtIODevice *vdev)
{
    ((Fixture *)vdev->transport_opaque)->resets++;
}

static void fx_get_config(VirtIODevice *vdev, uint8_t *config)
{
    config[0] = 0x11;
    config[1] = 0x22;
}

static const VirtioDeviceOps fx_ops = {.reset = fx_reset, .get_config = fx_get_config};

static void fx_handle(VirtIODevice *vdev, VirtQueue *vq)
{
    ((Fixture *)vdev->transport_opaque)->handled++;
}

static void w16(uint64_t a, uint16_t v)
{
    uint8_t b[2];
    st_le16(b, v);
    g_assert_true(dma_write(a, b, 2));
}

static uint16_t r16(uint64_t a)
{
    uint8_t b[2];
    g_assert_true(dma_read(a, b, 2));
    return ld_le16(b);
}

static uint32_t r32(uint64_t a)
{
    uint8_t b[4];
    g_assert_true(dma_read(a, b, 4));
    return ld_le32(b);
}

static void wdesc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                  uint16_t next)
{
    uint8_t b[16];
    qvirtio_desc_encode(b, addr, len, flags, next);
    g_assert_true(dma_write(table + 16 * i, b, 16));
}

static void fx_make_avail(Fixture *f, uint16_t head)
{
    w16(AVAIL + 4 + 2 * (f->avail_idx % QSIZE), head);
    w16(AVAIL + 2, ++f->avail_idx);
}

static void fx_init(Fixture *f, uint64_t features)
{
    g_assert_true(guest_ram_init(RAM_SIZE, RAM_SIZE, NULL));
    memset(f, 0, sizeof(*f));
    virtio_init(&f->vdev, "test-dev", 42, 4, &fx_ops);
    f->vdev.host_features = features;
    virtio_bind_transport(&f->vdev, &fx_transport, f);
    f->vq = virtio_add_queue(&f->vdev, QSIZE, fx_handle);
    virtio_set_status(&f->vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_write_driver_features(&f->vdev, 0, (uint32_t)features);
    virtio_write_driver_features(&f->vdev, 1, features >> 32);
    virtio_set_status(&f->vdev, 0x0b);
    g_assert_cmphex(f->vdev.status, ==, 0x0b);
    f->vq->desc = DESC;
    f->vq->avail = AVAIL;
    f->vq->used = USED;
    f->vq->vector = 1;
    f->vdev.config_vector = 0;
    virtio_queue_enable(f->vq);
    g_assert_true(f->vq->enabled);
    virtio_set_status(&f->vdev, 0x0f);
}

static void fx_setup(Fixture *f, gconstpointer data)
{
    fx_init(f, FEATURES);
}

static void fx_teardown(Fixture *f, gconstpointer data)
{
    virtio_cleanup(&f->vdev);
    guest_ram_free();
}

/* The device broke: NEEDS_RESET, a config interrupt, nothing more popped. */
static void assert_broken(Fixture *f)
{
    g_assert_true(f->vdev.broken);
    g_assert_true(f->vdev.status & VIRTIO_CONFIG_S_NEEDS_RESET);
    g_assert_cmpuint(f->irqs[0], ==, 1);
    g_assert_true(f->vdev.isr & VIRTIO_ISR_CONFIG);
    g_assert_null(virtqueue_pop(f->vq));
}

static void test_features(void)
{
    Fixture f;
    g_assert_true(guest_ram_init(RAM_SIZE, RAM_SIZE, NULL));
    virtio_init(&f.vdev, "t", 1, 0, &fx_ops);
    f.vdev.host_features = FEATURES;
    virtio_bind_transport(&f.vdev, &fx_transport, &f);
    g_assert_cmphex(virtio_read_device_features(&f.vdev, 0), ==, (uint32_t)FEATURES);
    g_assert_cmphex(virtio_read_device_features(&f.vdev, 1), ==, 1);
    g_assert_cmphex(virtio_read_device_features(&f.vdev, 2), ==, 0);

    /* A feature not offered: FEATURES_OK does not stick. */
    virtio_write_driver_features(&f.vdev, 0, (uint32_t)FEATURES | VIRTIO_BIT(4));
    virtio_write_driver_features(&f.vdev, 1, 1);
    virtio_set_status(&f.vdev, 0x0b);
    g_assert_cmphex(f.vdev.status, ==, 0x03);
    g_assert_cmphex(f.vdev.guest_features, ==, 0);

    /* Without VERSION_1: refused. */
    virtio_write_driver_features(&f.vdev, 0, (uint32_t)FEATURES);
    virtio_write_driver_features(&f.vdev, 1, 0);
    virtio_set_status(&f.vdev, 0x0b);
    g_assert_cmphex(f.vdev.status, ==, 0x03);

    /* DRIVER_OK without FEATURES_OK is not taken either. */
    virtio_set_status(&f.vdev, 0x07);
    g_assert_cmphex(f.vdev.status, ==, 0x03);

    virtio_write_driver_features(&f.vdev, 1, 1);
    virtio_set_status(&f.vdev, 0x0b);
    g_assert_cmphex(f.vdev.status, ==, 0x0b);
    g_assert_cmphex(f.vdev.guest_features, ==, FEATURES);
    /* Fixed after FEATURES_OK. */
    virtio_write_driver_features(&f.vdev, 0, 0);
    g_assert_cmphex(virtio_read_driver_features(&f.vdev, 0), ==, (uint32_t)FEATURES);

    /* The driver cannot set NEEDS_RESET. */
    virtio_set_status(&f.vdev, 0x0f | VIRTIO_CONFIG_S_NEEDS_RESET);
    g_assert_cmphex(f.vdev.status, ==, 0x0f);

    virtio_set_status(&f.vdev, 0);
    g_assert_cmphex(f.vdev.status, ==, 0);
    g_assert_cmphex(f.vdev.guest_features, ==, 0);
    g_assert_cmphex(f.vdev.driver_features, ==, 0);
    virtio_cleanup(&f.vdev);
    guest_ram_free();
}

static void test_config(Fixture *f, gconstpointer data)
{
    g_assert_cmphex(virtio_config_read(&f->vdev, 0, 2), ==, 0x2211);
    g_assert_cmphex(virtio_config_read(&f->vdev, 3, 2), ==, 0xffff); /* past the end */
    uint8_t gen = f->vdev.config_generation;
    virtio_config_changed(&f->vdev);
    g_assert_cmpuint(f->vdev.config_generation, ==, (uint8_t)(gen + 1));
    g_assert_cmpuint(f->irqs[0], ==, 1);
    g_assert_cmphex(virtio_isr_read_clear(&f->vdev), ==, VIRTIO_ISR_CONFIG);
    g_assert_cmphex(virtio_isr_read_clear(&f->vdev), ==, 0);

    /* Before DRIVER_OK the generation moves but no interrupt is raised. */
    virtio_set_status(&f->vdev, 0);
    virtio_config_changed(&f->vdev);
    g_assert_cmpuint(f->irqs[0], ==, 1);
    g_assert_cmpuint(f->resets, ==, 1);
}

static void test_simple_chain(Fixture *f, gconstpointer data)
{
    wdesc(DESC, 0, BUF, 100, VRING_DESC_F_NEXT, 5);
    wdesc(DESC, 5, BUF + 0x1000, 50, VRING_DESC_F_NEXT, 3);
    wdesc(DESC, 3, BUF + 0x2000, 200, VRING_DESC_F_WRITE, 0);
    g_assert_true(virtqueue_empty(f->vq));
    fx_make_avail(f, 0);
    g_assert_false(virtqueue_empty(f->vq));
    VirtQueueElement *e = virtqueue_pop(f->vq);
    g_assert_nonnull(e);
    g_assert_cmpuint(e->index, ==, 0);
    g_assert_cmpuint(e->out_num, ==, 2);
    g_assert_cmpuint(e->in_num, ==, 1);
    g_assert_cmpuint(e->out_len, ==, 150);
    g_assert_cmpuint(e->in_len, ==, 200);
    g_assert_cmphex(e->out[1].addr, ==, BUF + 0x1000);
    /* EVENT_IDX: the device asks for a kick at the next entry. */
    g_assert_cmpuint(r16(USED + 4 + 8 * QSIZE), ==, 1);

    /* Copy helpers cross segment boundaries. */
    uint8_t pattern[150], back[150];
    for (int i = 0; i < 150; i++) {
        pattern[i] = i;
    }
    g_assert_true(dma_write(BUF, pattern, 100));
    g_assert_true(dma_write(BUF + 0x1000, pattern + 100, 50));
    g_assert_cmpuint(virtqueue_elem_read(&f->vdev, e, 90, back, 60), ==, 60);
    g_assert_cmpmem(back, 60, pattern + 90, 60);
    g_assert_cmpuint(virtqueue_elem_write(&f->vdev, e, 190, pattern, 20), ==, 10);

    /* used_event 0: the first used entry interrupts. */
    virtqueue_push(f->vq, e, 33);
    virtqueue_elem_free(e);
    g_assert_cmpuint(r16(USED + 2), ==, 1);
    g_assert_cmpuint(r32(USED + 4), ==, 0);
    g_assert_cmpuint(r32(USED + 8), ==, 33);
    virtio_notify(&f->vdev, f->vq);
    g_assert_cmpuint(f->irqs[1], ==, 1);
    g_assert_true(f->vdev.isr & VIRTIO_ISR_QUEUE);
    g_assert_true(virtqueue_empty(f->vq));
}

static void test_event_idx(Fixture *f, gconstpointer data)
{
    for (int i = 0; i < 4; i++) {
        wdesc(DESC, i, BUF + i * 0x100, 16, VRING_DESC_F_WRITE, 0);
        fx_make_avail(f, i);
    }
    w16(AVAIL + 4 + 2 * QSIZE, 2); /* used_event: interrupt when entry 2 is used */
    for (int i = 0; i < 4; i++) {
        VirtQueueElement *e = virtqueue_pop(f->vq);
        g_assert_nonnull(e);
        virtqueue_push(f->vq, e, 1);
        virtqueue_elem_free(e);
        virtio_notify(&f->vdev, f->vq);
        /* The first notify always goes; then only crossing used_event does. */
        g_assert_cmpuint(f->irqs[1], ==, i < 2 ? 1 : 2);
    }
}

static void test_no_interrupt_flag(void)
{
    Fixture fx, *f = &fx;
    fx_init(f, VIRTIO_BIT(VIRTIO_F_VERSION_1)); /* no EVENT_IDX: the flags decide */
    wdesc(DESC, 0, BUF, 16, VRING_DESC_F_WRITE, 0);
    fx_make_avail(f, 0);
    w16(AVAIL, VRING_AVAIL_F_NO_INTERRUPT);
    VirtQueueElement *e = virtqueue_pop(f->vq);
    virtqueue_push(f->vq, e, 0);
    virtqueue_elem_free(e);
    virtio_notify(&f->vdev, f->vq);
    g_assert_cmpuint(f->irqs[1], ==, 0);
    w16(AVAIL, 0);
    virtio_notify(&f->vdev, f->vq);
    g_assert_cmpuint(f->irqs[1], ==, 1);
    /* Device-side suppression writes the used flags. */
    virtqueue_set_notification(f->vq, false);
    g_assert_cmpuint(r16(USED), ==, VRING_USED_F_NO_NOTIFY);
    virtqueue_set_notification(f->vq, true);
    g_assert_cmpuint(r16(USED), ==, 0);
    fx_teardown(f, NULL);
}

static void test_indirect(Fixture *f, gconstpointer data)
{
    wdesc(ITABLE, 0, BUF, 10, VRING_DESC_F_NEXT, 2);
    wdesc(ITABLE, 2, BUF + 0x100, 20, VRING_DESC_F_NEXT, 1);
    wdesc(ITABLE, 1, BUF + 0x200, 30, VRING_DESC_F_WRITE, 0);
    wdesc(DESC, 4, ITABLE, 3 * 16, VRING_DESC_F_INDIRECT, 0);
    fx_make_avail(f, 4);
    VirtQueueElement *e = virtqueue_pop(f->vq);
    g_assert_nonnull(e);
    g_assert_cmpuint(e->index, ==, 4);
    g_assert_cmpuint(e->out_num, ==, 2);
    g_assert_cmpuint(e->in_num, ==, 1);
    g_assert_cmpuint(e->in_len, ==, 30);
    virtqueue_elem_free(e);
    g_assert_false(f->vdev.broken);
}

static void test_unpop(Fixture *f, gconstpointer data)
{
    wdesc(DESC, 0, BUF, 16, VRING_DESC_F_WRITE, 0);
    wdesc(DESC, 1, BUF + 16, 16, VRING_DESC_F_WRITE, 0);
    fx_make_avail(f, 0);
    fx_make_avail(f, 1);
    VirtQueueElement *a = virtqueue_pop(f->vq), *b = virtqueue_pop(f->vq);
    g_assert_cmpuint(f->vq->inuse, ==, 2);
    virtqueue_unpop(f->vq, 2);
    virtqueue_elem_free(a);
    virtqueue_elem_free(b);
    g_assert_cmpuint(f->vq->inuse, ==, 0);
    a = virtqueue_pop(f->vq);
    g_assert_cmpuint(a->index, ==, 0);
    virtqueue_elem_free(a);
}

/* Each kind of bad chain, set up by a callback, breaks the device. */
typedef void BadSetup(Fixture *f);

static void bad_loop(Fixture *f)
{
    wdesc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
    wdesc(DESC, 1, BUF, 16, VRING_DESC_F_NEXT, 0);
    fx_make_avail(f, 0);
}

static void bad_out_of_ram(Fixture *f)
{
    wdesc(DESC, 0, RAM_SIZE - 8, 16, 0, 0);
    fx_make_avail(f, 0);
}

static void bad_wrapping_addr(Fixture *f)
{
    wdesc(DESC, 0, UINT64_MAX - 4, 16, 0, 0);
    fx_make_avail(f, 0);
}

static void bad_zero_len(Fixture *f)
{
    wdesc(DESC, 0, BUF, 0, 0, 0);
    fx_make_avail(f, 0);
}

static void bad_order(Fixture *f)
{
    wdesc(DESC, 0, BUF, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
    wdesc(DESC, 1, BUF, 16, 0, 0);
    fx_make_avail(f, 0);
}

static void bad_avail_jump(Fixture *f)
{
    wdesc(DESC, 0, BUF, 16, 0, 0);
    w16(AVAIL + 4, 0);
    w16(AVAIL + 2, QSIZE + 1);
}

static void bad_head(Fixture *f)
{
    fx_make_avail(f, QSIZE);
}

static void bad_next(Fixture *f)
{
    wdesc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, QSIZE);
    fx_make_avail(f, 0);
}

static void bad_indirect_in_indirect(Fixture *f)
{
    wdesc(ITABLE, 0, ITABLE, 32, VRING_DESC_F_INDIRECT, 0);
    wdesc(DESC, 0, ITABLE, 32, VRING_DESC_F_INDIRECT, 0);
    fx_make_avail(f, 0);
}

static void bad_indirect_in_chain(Fixture *f)
{
    wdesc(ITABLE, 0, BUF, 16, 0, 0);
    wdesc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
    wdesc(DESC, 1, ITABLE, 16, VRING_DESC_F_INDIRECT, 0);
    fx_make_avail(f, 0);
}

static void bad_indirect_size(Fixture *f)
{
    wdesc(DESC, 0, ITABLE, 24, VRING_DESC_F_INDIRECT, 0);
    fx_make_avail(f, 0);
}

static void bad_indirect_next(Fixture *f)
{
    wdesc(ITABLE, 0, BUF, 16, 0, 0);
    wdesc(DESC, 0, ITABLE, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
    fx_make_avail(f, 0);
}

static void bad_indirect_loop(Fixture *f)
{
    wdesc(ITABLE, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
    wdesc(ITABLE, 1, BUF, 16, VRING_DESC_F_NEXT, 0);
    wdesc(DESC, 0, ITABLE, 32, VRING_DESC_F_INDIRECT, 0);
    fx_make_avail(f, 0);
}

static void bad_indirect_table_out_of_ram(Fixture *f)
{
    wdesc(DESC, 0, RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
    fx_make_avail(f, 0);
}

static void bad_indirect_not_negotiated(Fixture *f)
{
    f->vdev.guest_features &= ~VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC);
    wdesc(ITABLE, 0, BUF, 16, 0, 0);
    wdesc(DESC, 0, ITABLE, 16, VRING_DESC_F_INDIRECT, 0);
    fx_make_avail(f, 0);
}

static void test_bad(Fixture *f, gconstpointer data)
{
    BadSetup *setup = (BadSetup *)data;
    setup(f);
    g_assert_null(virtqueue_pop(f->vq));
    assert_broken(f);
    /* One report, one interrupt: a second look changes nothing. */
    g_assert_null(virtqueue_pop(f->vq));
    g_assert_cmpuint(f->irqs[0], ==, 1);
    /* The driver's reset makes the device usable again. */
    virtio_set_status(&f->vdev, 0);
    g_assert_false(f->vdev.broken);
    g_assert_cmphex(f->vdev.status, ==, 0);
}

static void test_bad_ring_addresses(Fixture *f, gconstpointer data)
{
    virtio_set_status(&f->vdev, 0);
    virtio_write_driver_features(&f->vdev, 1, 1);
    virtio_set_status(&f->vdev, 0x0b);
    f->vq->desc = RAM_SIZE - 16; /* the table does not fit */
    f->vq->avail = AVAIL;
    f->vq->used = USED;
    virtio_queue_enable(f->vq);
    g_assert_false(f->vq->enabled);
    g_assert_true(f->vdev.broken);
    virtio_set_status(&f->vdev, 0);
    virtio_write_driver_features(&f->vdev, 1, 1);
    virtio_set_status(&f->vdev, 0x0b);
    f->vq->num = 6; /* not a power of 2 */
    f->vq->desc = DESC;
    f->vq->avail = AVAIL;
    f->vq->used = USED;
    virtio_queue_enable(f->vq);
    g_assert_true(f->vdev.broken);
}

static void test_kick_before_driver_ok(Fixture *f, gconstpointer data)
{
    virtio_set_status(&f->vdev, 0);
    virtio_write_driver_features(&f->vdev, 1, 1);
    virtio_set_status(&f->vdev, 0x0b);
    f->vq->desc = DESC;
    f->vq->avail = AVAIL;
    f->vq->used = USED;
    virtio_queue_enable(f->vq);
    f->handled = 0;
    virtio_queue_notify(&f->vdev, 0);
    g_assert_cmpuint(f->handled, ==, 0);
    /* DRIVER_OK serves what was made available before it. */
    virtio_set_status(&f->vdev, 0x0f);
    g_assert_cmpuint(f->handled, ==, 1);
    virtio_queue_notify(&f->vdev, 0);
    g_assert_cmpuint(f->handled, ==, 2);
    virtio_queue_notify(&f->vdev, 7); /* no such queue */
    g_assert_cmpuint(f->handled, ==, 2);
}

#define ADD(name, fn)                                                                          \
    g_test_add("/virtio/queue/" name, Fixture, NULL, fx_setup, fn, fx_teardown)
#define ADD_BAD(name, setup)                                                                   \
    g_test_add("/virtio/queue/bad/" name, Fixture, (gconstpointer)setup, fx_setup, test_bad,   \
               fx_teardown)

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio/features", test_features);
    ADD("config", test_config);
    ADD("simple-chain", test_simple_chain);
    ADD("event-idx", test_event_idx);
    g_test_add_func("/virtio/queue/no-interrupt-flag", test_no_interrupt_flag);
    ADD("indirect", test_indirect);
    ADD("unpop", test_unpop);
    ADD("bad-ring-addresses", test_bad_ring_addresses);
    ADD("kick-before-driver-ok", test_kick_before_driver_ok);
    ADD_BAD("loop", bad_loop);
    ADD_BAD("out-of-ram", bad_out_of_ram);
    ADD_BAD("wrapping-address", bad_wrapping_addr);
    ADD_BAD("zero-length", bad_zero_len);
    ADD_BAD("readable-after-writable", bad_order);
    ADD_BAD("avail-idx-jump", bad_avail_jump);
    ADD_BAD("head-out-of-range", bad_head);
    ADD_BAD("next-out-of-range", bad_next);
    ADD_BAD("indirect-in-indirect", bad_indirect_in_indirect);
    ADD_BAD("indirect-in-chain", bad_indirect_in_chain);
    ADD_BAD("indirect-size", bad_indirect_size);
    ADD_BAD("indirect-with-next", bad_indirect_next);
    ADD_BAD("indirect-loop", bad_indirect_loop);
    ADD_BAD("indirect-table-out-of-ram", bad_indirect_table_out_of_ram);
    ADD_BAD("indirect-not-negotiated", bad_indirect_not_negotiated);
    return g_test_run();
}
