/*
 * test-virtio-net-tx.c: when virtio-net transmits, under qtest's manual virtual clock:
 * `tx=bh` sends at the kick and keeps kicks off for `x-txtimer` afterwards (the ring is
 * looked at again then, and again while each look finds four frames or more; a look that
 * finds fewer turns kicks back on); `tx=timer` sends what
 * was kicked within `x-txtimer` together when it expires; `x-txburst` bounds one run.
 * (Bad values of the properties are in test-virtio-net.c's refused table.)
 */
#include <unistd.h>
#include "../lib/qvirtio-net.h"

static const uint8_t src_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t dst_mac[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};

#define MS 1000000LL
#define FRAME_LEN 100

typedef struct {
    QTestState *qts;
    int backend;
    QVirtioNet *net;
} Fixture;

static void fixture_start(Fixture *f, const char *props)
{
    f->qts = qvnet_start(props, NULL, &f->backend);
    f->net = qvnet_init(f->qts, QVNET_ALL_FEATURES, true);
}

static void fixture_stop(Fixture *f)
{
    qvnet_free(f->net);
    close(f->backend);
    qtest_quit(f->qts);
}

/* Frame number `tag` (its first payload byte tells which it is). */
static size_t frame_build(uint8_t *buf, uint8_t tag)
{
    size_t len = qvnet_build_frame(buf, dst_mac, src_mac, 0, 0x0800, FRAME_LEN - 14);
    buf[14] = tag;
    return len;
}

/* Make frame `tag` available on the tx queue; kick only when `kick`. */
static void tx_queue(Fixture *f, uint8_t tag, bool kick)
{
    uint8_t frame[FRAME_LEN];
    size_t len = frame_build(frame, tag);
    uint64_t addr = qtest_alloc(f->qts, QVNET_HDR_LEN + len);
    uint8_t hdr[QVNET_HDR_LEN] = {0};
    qtest_memwrite(f->qts, addr, hdr, sizeof(hdr));
    qtest_memwrite(f->qts, addr + QVNET_HDR_LEN, frame, len);
    uint16_t head = qvirtqueue_add(f->net->tx, addr, QVNET_HDR_LEN + len, false, true);
    if (kick) {
        qvirtqueue_submit(f->net->tx, head);
    } else {
        qvirtqueue_publish(f->net->tx, head);
    }
}

static void expect_frame(Fixture *f, uint8_t tag)
{
    uint8_t want[FRAME_LEN];
    size_t len = frame_build(want, tag);
    qvnet_backend_expect(f->backend, want, len);
}

/* EVENT_IDX: kicks are on when avail_event is the driver's avail index (the next frame
 * made available crosses it); off when it lags behind. */
static bool tx_kicks_on(Fixture *f)
{
    QVirtQueue *vq = f->net->tx;
    uint16_t avail_event = qtest_readw(f->qts, vq->used + 4 + 8 * (uint64_t)vq->size);
    return avail_event == vq->avail_idx;
}

static void test_bh_repoll(void)
{
    Fixture f;
    fixture_start(&f, ""); /* tx=bh, x-txtimer=150000: the defaults */
    tx_queue(&f, 1, true);
    expect_frame(&f, 1); /* a kick sends at once */
    g_assert_false(tx_kicks_on(&f));
    /* The guest streams (sees kicks off, does not kick): looks take what it queued, and
     * kicks stay off while each look finds at least four frames. */
    for (uint8_t i = 2; i <= 5; i++) {
        tx_queue(&f, i, false);
    }
    qvnet_backend_expect_none(f.backend, 50);
    qtest_clock_step(f.qts, 150000);
    for (uint8_t i = 2; i <= 5; i++) {
        expect_frame(&f, i);
    }
    g_assert_false(tx_kicks_on(&f));
    /* A look that finds fewer (a guest that waits for completions): kicks back on. */
    tx_queue(&f, 6, false);
    qtest_clock_step(f.qts, 150000);
    expect_frame(&f, 6);
    g_assert_true(tx_kicks_on(&f));
    tx_queue(&f, 7, false);
    qtest_clock_step(f.qts, 10 * MS);
    qvnet_backend_expect_none(f.backend, 50); /* nobody looks without a kick now */
    qvirtqueue_kick(f.net->tx);
    expect_frame(&f, 7);
    /* An empty look turns them on too. */
    g_assert_false(tx_kicks_on(&f));
    qtest_clock_step(f.qts, 150000);
    g_assert_true(tx_kicks_on(&f));
    fixture_stop(&f);
}

/* x-txtimer=0: no hysteresis, kicks are on again as soon as the ring is empty. */
static void test_bh_no_repoll(void)
{
    Fixture f;
    fixture_start(&f, "x-txtimer=0");
    tx_queue(&f, 1, true);
    expect_frame(&f, 1);
    g_assert_true(tx_kicks_on(&f));
    tx_queue(&f, 2, false);
    qtest_clock_step(f.qts, 10 * MS);
    qvnet_backend_expect_none(f.backend, 50);
    fixture_stop(&f);
}

static void test_timer(void)
{
    Fixture f;
    fixture_start(&f, "tx=timer,x-txtimer=2000000");
    tx_queue(&f, 1, true);
    qvnet_backend_expect_none(f.backend, 50); /* the kick only starts the interval */
    g_assert_false(tx_kicks_on(&f));
    qtest_clock_step(f.qts, 1 * MS);
    tx_queue(&f, 2, true); /* kicked within the interval: it does not move it */
    qvnet_backend_expect_none(f.backend, 50);
    qtest_clock_step(f.qts, 1 * MS); /* 2 ms after the first kick */
    expect_frame(&f, 1);
    expect_frame(&f, 2);
    g_assert_true(tx_kicks_on(&f)); /* the ring is empty: the next kick starts anew */
    g_assert_cmpuint(qvirtqueue_used_idx(f.net->tx), ==, 2);
    fixture_stop(&f);
}

/* x-txburst bounds a run; with tx=timer the rest waits for the next expiry. */
static void test_burst(void)
{
    Fixture f;
    fixture_start(&f, "tx=timer,x-txtimer=1000000,x-txburst=2");
    for (uint8_t i = 1; i <= 5; i++) {
        tx_queue(&f, i, i == 5);
    }
    for (uint8_t i = 1; i <= 5; i += 2) {
        qvnet_backend_expect_none(f.backend, 50);
        qtest_clock_step(f.qts, 1 * MS);
        expect_frame(&f, i);
        if (i < 5) {
            expect_frame(&f, i + 1);
        }
    }
    qvnet_backend_expect_none(f.backend, 50);
    fixture_stop(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-net/tx/bh-repoll", test_bh_repoll);
    g_test_add_func("/virtio-net/tx/bh-no-repoll", test_bh_no_repoll);
    g_test_add_func("/virtio-net/tx/timer", test_timer);
    g_test_add_func("/virtio-net/tx/burst", test_burst);
    return g_test_run();
}
