/*
 * virtio-net-tx.c: the transmit path, from the guest's tx queue to the netdev, and when
 * it runs: at once on a kick (`tx=bh`, the default) or on a timer after the kick
 * (`tx=timer`), with the guest's notifications off while frames keep coming.
 *
 * Why the hysteresis (docs/virtio.md has the figures): where the vCPU and the main loop
 * share one CPU, each kick wakes the main loop, which preempts the vCPU, finds the one
 * frame the guest has queued so far, sends it, interrupts the guest and turns kicks back
 * on; the guest then kicks for its next frame. One kick, one frame, one interrupt: a
 * stable state that a streaming guest never leaves. So after a kick's run that sent frames
 * the notifications stay off and the ring is looked at again `x-txtimer` later; the looks
 * go on while each finds at least TX_POLL_MIN frames (the guest streams faster than we
 * look), and a look that finds fewer turns kicks back on. A lone frame still leaves at its
 * kick. A guest that sends a few frames and then waits for their completion (TCP held
 * back by its small-queue limit) must not wait for looks: in the lab, where the main loop
 * gets the CPU late, that cut guest->host TCP to a tenth; it is back on kicks after one
 * look.
 */
#include "hw/virtio-net.h"
#include "main-loop.h"

/* A look after the interval that finds fewer frames than this turns kicks back on. */
#define TX_POLL_MIN 4

typedef enum {
    TX_EMPTY, /* the queue is empty */
    TX_MORE,  /* the burst is spent, frames remain */
    TX_WAIT,  /* cannot go on now: backend full (send_ready resumes), VM stopped or the
               * driver not ready (the start resumes) */
} TxResult;

/* Whether the backend asked us to wait (its queue is full); send_ready resumes. */
static bool virtio_net_tx_blocked(VirtIONet *n)
{
    NetClientState *nc = n->nc;
    return nc->peer && !nc->link_down && !nc->peer->link_down && !net_can_send(nc);
}

/* Send up to a burst of frames. stopping: the VM has just stopped; what the guest
 * queued before still goes out. *sent: how many frames were taken. */
static TxResult virtio_net_flush_tx(VirtIONet *n, bool stopping, unsigned *sent)
{
    VirtQueue *vq = n->tx_vq;
    unsigned budget = n->tx.burst;
    TxResult r = TX_EMPTY;

    *sent = 0;
    if (!virtio_driver_ok(&n->vdev) || (!runstate_is_running() && !stopping) || !vq->enabled) {
        return TX_WAIT;
    }
    int64_t now_ns = clock_get_ns(TERN_CLOCK_VIRTUAL); /* once per run, for ageing */
    for (;;) {
        if (virtio_net_tx_blocked(n)) {
            r = TX_WAIT;
            break;
        }
        if (budget-- == 0) {
            r = TX_MORE; /* a long burst: let the main loop breathe, then go on */
            break;
        }
        VirtQueueElement *elem = virtqueue_pop(vq);
        if (!elem) {
            r = n->vdev.broken ? TX_WAIT : TX_EMPTY;
            break;
        }
        if (elem->in_num || elem->out_len < VIRTIO_NET_HDR_LEN) {
            virtio_error(&n->vdev,
                         "transmit buffer %u is device-writable or shorter than "
                         "the header",
                         elem->index);
            virtqueue_elem_free(elem);
            r = TX_WAIT; /* broken until the driver resets it */
            break;
        }
        /* With headers to the backend the guest's goes along (its checksum and GSO
         * requests: the kernel carries them out); otherwise the frame alone. Sent
         * straight from guest RAM: the backend writes it or its queue copies it before
         * the buffer goes back to the guest. */
        size_t skip = n->nc->vnet_hdr ? 0 : VIRTIO_NET_HDR_LEN;
        size_t size = elem->out_len - VIRTIO_NET_HDR_LEN;
        struct iovec iov[VIRTQUEUE_MAX_SIZE];
        int cnt;
        if (size <= NET_FRAME_MAX &&
            (cnt = virtqueue_elem_map_out(&n->vdev, elem, skip, iov, G_N_ELEMENTS(iov))) >= 0) {
            uint8_t head[18];
            size_t hl = MIN(sizeof(head), size);
            iov_to_buf(iov, cnt, VIRTIO_NET_HDR_LEN - skip, head, hl);
            virtio_net_learn_tx(n, head, hl, now_ns);
            net_send(n->nc, iov, cnt);
        }
        virtqueue_push(vq, elem, 0);
        virtqueue_elem_free(elem);
        (*sent)++;
    }
    if (*sent) {
        virtio_notify(&n->vdev, vq);
    }
    return r;
}

static gboolean virtio_net_tx_bh(gpointer opaque)
{
    VirtIONet *n = opaque;
    g_source_unref(n->tx.bh);
    n->tx.bh = NULL;
    virtio_net_tx_run(n);
    return G_SOURCE_REMOVE;
}

static void virtio_net_tx_arm_timer(VirtIONet *n)
{
    timer_mod_ns(n->tx.timer, clock_get_ns(TERN_CLOCK_VIRTUAL) + n->tx.interval_ns);
}

/* Frames remain: go on soon (bh: the next main-loop iteration; timer: the timer). */
static void virtio_net_tx_continue(VirtIONet *n)
{
    if (n->tx.mode == VIRTIO_NET_TX_TIMER) {
        virtio_net_tx_arm_timer(n);
    } else if (!n->tx.bh) {
        n->tx.bh = g_idle_source_new();
        g_source_set_priority(n->tx.bh, G_PRIORITY_DEFAULT); /* as fds and timers */
        g_source_set_callback(n->tx.bh, virtio_net_tx_bh, n, NULL);
        g_source_attach(n->tx.bh, main_loop_context());
    }
}

/* Drop a scheduled run (reset, stop: a stop flushes by itself). */
static void virtio_net_tx_cancel(VirtIONet *n)
{
    if (n->tx.bh) {
        g_source_destroy(n->tx.bh);
        g_source_unref(n->tx.bh);
        n->tx.bh = NULL;
    }
    timer_del(n->tx.timer);
}

/* One run. min_sent: how many frames it must send for kicks to stay off until the next
 * look (bh mode): 1 for a kick's run, TX_POLL_MIN for a look. */
static void virtio_net_tx_run_min(VirtIONet *n, unsigned min_sent)
{
    VirtQueue *vq = n->tx_vq;
    unsigned sent;
    switch (virtio_net_flush_tx(n, false, &sent)) {
    case TX_MORE:
        virtio_net_tx_continue(n);
        break;
    case TX_WAIT:
        break;
    case TX_EMPTY:
        if (sent >= min_sent && n->tx.mode == VIRTIO_NET_TX_BH && n->tx.interval_ns > 0) {
            /* The hysteresis: kicks stay off, the ring is looked at again soon. */
            virtio_net_tx_arm_timer(n);
            break;
        }
        virtqueue_set_notification(vq, true);
        if (!virtqueue_empty(vq)) { /* a frame raced with turning kicks back on */
            virtqueue_set_notification(vq, false);
            virtio_net_tx_continue(n);
        }
        break;
    }
}

void virtio_net_tx_run(VirtIONet *n)
{
    virtio_net_tx_run_min(n, TX_POLL_MIN);
}

static void virtio_net_tx_timer_cb(void *opaque)
{
    virtio_net_tx_run_min(opaque, TX_POLL_MIN);
}

/* A kick. bh: run now (a later look is due anyway: now is sooner). timer: the first kick
 * starts the interval, whatever the guest queues within it leaves with it. */
void virtio_net_handle_tx(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIONet *n = virtio_net_of(vdev);
    if (n->tx.mode == VIRTIO_NET_TX_TIMER) {
        if (!timer_pending(n->tx.timer)) {
            virtqueue_set_notification(vq, false);
            virtio_net_tx_arm_timer(n);
        }
        return;
    }
    virtqueue_set_notification(vq, false);
    timer_del(n->tx.timer);
    virtio_net_tx_run_min(n, 1);
}

void virtio_net_tx_stop(VirtIONet *n)
{
    unsigned sent;
    virtio_net_tx_cancel(n);
    virtio_net_flush_tx(n, true, &sent);
}

void virtio_net_tx_reset(VirtIONet *n)
{
    virtio_net_tx_cancel(n);
}

void virtio_net_tx_init(VirtIONet *n, VirtIONetTxMode mode, int64_t interval_ns, unsigned burst)
{
    n->tx.mode = mode;
    n->tx.interval_ns = interval_ns;
    n->tx.burst = burst;
    n->tx.timer = timer_new(TERN_CLOCK_VIRTUAL, virtio_net_tx_timer_cb, n);
}

void virtio_net_tx_cleanup(VirtIONet *n)
{
    if (n->tx.timer) {
        virtio_net_tx_cancel(n);
        timer_free(n->tx.timer);
        n->tx.timer = NULL;
    }
}
