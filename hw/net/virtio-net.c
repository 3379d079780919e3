/*
 * virtio-net.c: the virtio network device as a VirtioDeviceClass (the transport makes it
 * `-device virtio-net-pci`): creation from its properties (their table is in
 * virtio-net-props.c), config space, feature rules, reset, link state, and the data path
 * between the guest's rx/tx queues and the netdev. The control queue and receive filter
 * are in virtio-net-ctrl.c, the guest announce in virtio-net-announce.c.
 */
#include <stdarg.h>
#include <string.h>
#include "bswap.h"
#include "error.h"
#include "hw/qdev.h"
#include "hw/virtio-net.h"
#include "hw/virtio-pci.h" /* only to register the -device class */
#include "main-loop.h"
#include "migration/savevm.h"
#include "monitor/qmp.h"
#include "net/announce.h"

/* Default MACs and NIC names are numbered as QEMU does. */
static struct {
    unsigned default_macs; /* NICs given no mac= so far */
    unsigned unnamed_nics; /* virtio-net-pci.N names handed out */
} vnet_registry;

static const NetClientInfo virtio_net_info;

VirtIONet *virtio_net_from_nc(NetClientState *nc)
{
    return nc && nc->info == &virtio_net_info ? nc->opaque : NULL;
}

/* ---- config space, features, status ------------------------------------------------ */

static void virtio_net_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIONet *n = virtio_net_of(vdev);
    memcpy(config + VIRTIO_NET_CONFIG_MAC, n->guest_mac, ETH_ALEN);
    config[VIRTIO_NET_CONFIG_STATUS] = n->status & 0xff;
    config[VIRTIO_NET_CONFIG_STATUS + 1] = n->status >> 8;
    config[VIRTIO_NET_CONFIG_MAX_VQ_PAIRS] = n->max_queue_pairs & 0xff;
    config[VIRTIO_NET_CONFIG_MAX_VQ_PAIRS + 1] = n->max_queue_pairs >> 8;
}

static const char *virtio_net_validate_features(VirtIODevice *vdev, uint64_t f)
{
    return virtio_net_props_invalid(f);
}

void virtio_net_apply_features(VirtIONet *n, uint64_t f)
{
    n->mergeable_rx = f & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
    n->guest_csum = f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM);
    NetOffloads o = {
        .csum = n->guest_csum,
        .tso4 = f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4),
        .tso6 = f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6),
        .ecn = f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN),
    };
    net_set_offloads(n->nc, &o);
}

static void virtio_net_set_features(VirtIODevice *vdev, uint64_t f)
{
    VirtIONet *n = virtio_net_of(vdev);
    virtio_net_apply_features(n, f);
    /* Without CTRL_VLAN every VLAN passes; with it the driver adds the ones it wants. */
    memset(n->vlans, (f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VLAN)) ? 0 : 0xff, sizeof(n->vlans));
}

static void virtio_net_set_status(VirtIODevice *vdev, uint8_t old)
{
    VirtIONet *n = virtio_net_of(vdev);
    if ((vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
        virtio_net_announce_driver_ok(n);
    }
}

static void virtio_net_reset(VirtIODevice *vdev)
{
    VirtIONet *n = virtio_net_of(vdev);
    bool driver_was_ok = vdev->status & VIRTIO_CONFIG_S_DRIVER_OK;
    virtio_net_announce_reset(n, driver_was_ok);
    virtio_net_rx_filter_reset(n);
    memcpy(n->guest_mac, n->cmdline_mac, ETH_ALEN);
    virtio_net_apply_features(n, 0);
    n->learned_count = n->learned_last = 0;
    virtio_net_tx_reset(n);
    net_client_purge(n->nc);
}

static const VirtioDeviceOps virtio_net_ops = {
    .validate_features = virtio_net_validate_features,
    .set_features = virtio_net_set_features,
    .get_config = virtio_net_get_config,
    .set_status = virtio_net_set_status,
    .reset = virtio_net_reset,
    .feature_name = virtio_net_props_feature_name,
};

/* ---- receive ------------------------------------------------------------------------ */

static bool virtio_net_can_receive(NetClientState *nc)
{
    VirtIONet *n = nc->opaque;
    return virtio_driver_ok(&n->vdev) && n->rx_vq->enabled && runstate_is_running();
}

typedef struct {
    VirtIONet *n;
    const VirtQueueElement *elem;
    uint64_t at;
} RxCopy;

static bool rx_copy_chunk(void *p, size_t len, void *opaque)
{
    RxCopy *c = opaque;
    bool ok = virtqueue_elem_write(&c->n->vdev, c->elem, c->at, p, len) == len;
    c->at += len;
    return ok;
}

/* Write frame bytes [from, from + len) into elem's writable part at `at`. */
static bool rx_copy(VirtIONet *n, const VirtQueueElement *elem, uint64_t at,
                    const struct iovec *iov, int iovcnt, size_t from, size_t len)
{
    RxCopy c = {.n = n, .elem = elem, .at = at};
    return iov_walk(iov, iovcnt, from, len, rx_copy_chunk, &c);
}

/* A GSO frame from the backend the guest agreed to take (5.1.6.4: only the types whose
 * GUEST_* feature it negotiated). */
static bool virtio_net_gso_ok(const VirtIONet *n, uint8_t gso_type)
{
    const VirtIODevice *vdev = &n->vdev;
    if ((gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
        !virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_ECN)) {
        return false;
    }
    switch (gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_NONE:
        return true;
    case VIRTIO_NET_HDR_GSO_TCPV4:
        return virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_TSO4);
    case VIRTIO_NET_HDR_GSO_TCPV6:
        return virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_TSO6);
    default:
        return false;
    }
}

/*
 * QEMU's work_around_broken_dhclient: a DHCP reply (IPv4 UDP from port 67, normal size)
 * that still asks for its checksum (a server on this host, e.g. dnsmasq behind the tap)
 * gets it completed here, because old dhclients read raw frames and drop a UDP checksum
 * that is only partial. is_dhcp_reply_partial looks at the header and the frame's first
 * 36 bytes; complete_csum then works on a copy of the frame (size bytes).
 */
static bool is_dhcp_reply_partial(const uint8_t *hdr, const uint8_t *head, size_t size)
{
    return (hdr[VIRTIO_NET_HDR_FLAGS] & VIRTIO_NET_HDR_F_NEEDS_CSUM) && size > 35 &&
           size < 1500 && head[12] == 0x08 && head[13] == 0x00 && head[23] == 17 &&
           head[34] == 0 && head[35] == 67;
}

static bool complete_csum(const uint8_t *hdr, uint8_t *frame, size_t size)
{
    size_t start = ld_le16(hdr + VIRTIO_NET_HDR_CSUM_START);
    size_t off = ld_le16(hdr + VIRTIO_NET_HDR_CSUM_OFFSET);
    if (start >= size || off + 2 > size - start) {
        return false;
    }
    /* The checksum field holds the pseudo-header sum: fold in the rest, complement. */
    uint32_t sum = 0;
    for (size_t i = start; i < size; i += 2) {
        sum += frame[i] << 8 | (i + 1 < size ? frame[i + 1] : 0);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    uint16_t csum = ~sum;
    if (csum == 0) {
        csum = 0xffff; /* UDP: zero means "no checksum" */
    }
    frame[start + off] = csum >> 8;
    frame[start + off + 1] = csum;
    return true;
}

static ssize_t virtio_net_receive(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    VirtIONet *n = nc->opaque;
    VirtQueue *vq = n->rx_vq;
    /* With headers from the backend, the frame proper starts after one. */
    size_t base = nc->vnet_hdr ? NET_VNET_HDR_LEN : 0;
    size_t total = iov_size(iov, iovcnt);
    size_t size = total > base ? total - base : 0;
    uint8_t head[36] = {0};
    uint8_t hdr[VIRTIO_NET_HDR_LEN] = {0};

    if (!virtio_net_can_receive(nc)) {
        return 0;
    }
    iov_to_buf(iov, iovcnt, base, head, MIN(sizeof(head), size));
    /* A frame shorter than an Ethernet header reaches a promiscuous guest, as in QEMU
     * (the filter refuses it otherwise). */
    if (size == 0 || size > NET_FRAME_MAX || !virtio_net_receive_filter(n, head, size)) {
        return -1;
    }
    if (base) {
        /* flags .. csum_offset as the backend gave them; num_buffers is ours. */
        iov_to_buf(iov, iovcnt, 0, hdr, VIRTIO_NET_HDR_NUM_BUFFERS);
        if (!n->guest_csum) {
            memset(hdr, 0, sizeof(hdr)); /* 5.1.6.4.1: flags zero, a complete frame */
        } else if (!virtio_net_gso_ok(n, hdr[VIRTIO_NET_HDR_GSO_TYPE])) {
            nc->dropped++;
            return -1;
        }
    }
    uint8_t fixed[1500];
    struct iovec fixed_iov = {.iov_base = fixed, .iov_len = size};
    if (base && is_dhcp_reply_partial(hdr, head, size)) {
        iov_to_buf(iov, iovcnt, base, fixed, size);
        if (complete_csum(hdr, fixed, size)) {
            hdr[VIRTIO_NET_HDR_FLAGS] &= ~VIRTIO_NET_HDR_F_NEEDS_CSUM;
            iov = &fixed_iov;
            iovcnt = 1;
            base = 0;
        }
    }

    VirtQueueElement *elems[VIRTQUEUE_MAX_SIZE];
    uint32_t lens[VIRTQUEUE_MAX_SIZE];
    unsigned count = 0;
    size_t offset = 0;
    while (offset < size) {
        VirtQueueElement *elem = count < vq->num ? virtqueue_pop(vq) : NULL;
        if (!elem) {
            /* Not enough buffers yet: give back what we took; the frame waits. */
            virtqueue_unpop(vq, count);
            for (unsigned i = 0; i < count; i++) {
                virtqueue_elem_free(elems[i]);
            }
            return n->vdev.broken ? -1 : 0;
        }
        elems[count] = elem;
        size_t guest_off = count == 0 ? VIRTIO_NET_HDR_LEN : 0;
        if (elem->out_num || elem->in_len < guest_off + (count == 0 ? 0 : 1)) {
            virtio_error(&n->vdev, "receive buffer %u is read-only or shorter than the header",
                         elem->index);
            for (unsigned i = 0; i <= count; i++) {
                virtqueue_elem_free(elems[i]);
            }
            return -1;
        }
        size_t len = MIN(elem->in_len - guest_off, size - offset);
        if (!rx_copy(n, elem, guest_off, iov, iovcnt, base + offset, len)) {
            for (unsigned i = 0; i <= count; i++) {
                virtqueue_elem_free(elems[i]);
            }
            return -1;
        }
        lens[count++] = guest_off + len;
        offset += len;
        if (!n->mergeable_rx && offset < size) {
            /* One buffer per frame and it is too small: drop the frame, keep the buffer. */
            virtqueue_unpop(vq, 1);
            virtqueue_elem_free(elem);
            return -1;
        }
    }
    hdr[VIRTIO_NET_HDR_NUM_BUFFERS] = count & 0xff; /* 1 without MRG_RXBUF, as the spec says */
    hdr[VIRTIO_NET_HDR_NUM_BUFFERS + 1] = count >> 8;
    virtqueue_elem_write(&n->vdev, elems[0], 0, hdr, sizeof(hdr));
    for (unsigned i = 0; i < count; i++) {
        virtqueue_fill(vq, elems[i], lens[i], i);
        virtqueue_elem_free(elems[i]);
    }
    virtqueue_flush(vq, count);
    virtio_notify(&n->vdev, vq);
    return size;
}

static void virtio_net_handle_rx(VirtIODevice *vdev, VirtQueue *vq)
{
    /* New buffers: frames that waited for them go now. */
    net_client_flush(virtio_net_of(vdev)->nc);
}

static void virtio_net_send_ready(NetClientState *nc)
{
    virtio_net_tx_run(nc->opaque);
}

/* ---- link, run state, client -------------------------------------------------------- */

static void virtio_net_link_status_changed(NetClientState *nc)
{
    VirtIONet *n = nc->opaque;
    uint16_t old = n->status;
    if (nc->link_down) {
        n->status &= ~VIRTIO_NET_S_LINK_UP;
    } else {
        n->status |= VIRTIO_NET_S_LINK_UP;
    }
    if (n->status != old) {
        virtio_config_changed(&n->vdev);
    }
}

static void virtio_net_vm_state_change(void *opaque, bool running, RunState state,
                                       RunState from)
{
    VirtIONet *n = opaque;
    /* Whatever the driver made available while the VM was stopped (or on the source
     * host, after a migration) is served now; control commands first, so that an ACK
     * already queued is answered before the arrival announce asks again. */
    if (running && virtio_driver_ok(&n->vdev)) {
        if (n->ctrl_vq && n->ctrl_vq->enabled) {
            virtio_net_handle_ctrl(&n->vdev, n->ctrl_vq);
        }
        net_client_flush(n->nc);
        virtio_net_tx_run(n);
    }
    /* Frames the guest queued before the stop leave now, from here, rather than after a
     * migration from the destination at RESUME (where they would race the announce). */
    if (!running && virtio_driver_ok(&n->vdev)) {
        virtio_net_tx_stop(n);
    }
}

static const NetClientInfo virtio_net_info = {
    .kind = NET_CLIENT_NIC,
    .type = "virtio-net-pci",
    .receive = virtio_net_receive,
    .can_receive = virtio_net_can_receive,
    .announce = virtio_net_announce,
    .announce_addresses = virtio_net_announce_addresses,
    .link_status_changed = virtio_net_link_status_changed,
    .send_ready = virtio_net_send_ready,
};

/* ---- -device virtio-net-pci --------------------------------------------------------- */

/* The table's properties and what the strings among them resolve to. */
typedef struct VnetConfig {
    VirtIONetProps p;
    uint8_t mac[ETH_ALEN];
    bool mac_given;
    NetClientState *backend;
} VnetConfig;

static bool vnet_parse(const TernOpts *o, const char *const *transport_props, VnetConfig *c,
                       GError **errp)
{
    if (!virtio_net_props_parse(o, transport_props, &c->p, errp)) {
        return false;
    }
    const char *v;
    if ((v = opts_get(o, "mac"))) {
        if (!net_parse_mac(v, c->mac)) {
            return tern_error_fail(
                errp,
                "-device virtio-net-pci: Property 'virtio-net-pci.mac' doesn't take value '%s'",
                v);
        }
        if (c->mac[0] & 1) {
            return tern_error_fail(errp,
                                   "-device virtio-net-pci: mac=%s is a multicast address; a "
                                   "NIC needs a unicast one",
                                   v);
        }
        c->mac_given = true;
    }
    if ((v = opts_get(o, "netdev")) && !(c->backend = net_backend_find(v))) {
        return tern_error_fail(
            errp,
            "-device virtio-net-pci: Property 'virtio-net-pci.netdev' can't find value '%s'",
            v);
    }
    if (o->id && net_client_find(o->id)) {
        return tern_error_fail(errp, "-device virtio-net-pci: Duplicate ID '%s' for device",
                               o->id);
    }
    return true;
}

static void virtio_net_free(VirtIODevice *vdev)
{
    VirtIONet *n = virtio_net_of(vdev);
    if (n->nc) {
        net_client_free(n->nc);
    }
    virtio_net_tx_cleanup(n);
    virtio_cleanup(&n->vdev);
    g_free(n->name);
    g_free(n->dev_id);
    g_free(n->qom_path);
    g_free(n);
}

static VirtIODevice *virtio_net_create(const TernOpts *o, const char *const *transport_props,
                                       const char *backend_path, GError **errp)
{
    VnetConfig c = {0};
    if (!vnet_parse(o, transport_props, &c, errp)) {
        return NULL;
    }
    VirtIONet *n = g_new0(VirtIONet, 1);
    if (o->id) {
        n->dev_id = g_strdup(o->id);
        n->name = g_strdup(o->id);
    } else {
        n->name = g_strdup_printf("virtio-net-pci.%u", vnet_registry.unnamed_nics++);
    }
    n->qom_path = g_strdup(backend_path);
    if (!c.mac_given) {
        static const uint8_t base[ETH_ALEN] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
        memcpy(c.mac, base, ETH_ALEN);
        c.mac[5] += vnet_registry.default_macs++;
    }
    memcpy(n->cmdline_mac, c.mac, ETH_ALEN);
    n->announce_learned = c.p.learned;
    n->announce_ageing = c.p.ageing;
    n->max_queue_pairs = 1;

    virtio_init(&n->vdev, n->name, VIRTIO_ID_NET, VIRTIO_NET_CONFIG_LEN, &virtio_net_ops);
    n->vdev.host_features = c.p.features;
    n->rx_vq = virtio_add_queue(&n->vdev, c.p.rx_size, virtio_net_handle_rx);
    n->tx_vq = virtio_add_queue(&n->vdev, c.p.tx_size, virtio_net_handle_tx);
    virtio_net_tx_init(n, c.p.tx_mode, c.p.tx_interval_ns, c.p.tx_burst);
    if (c.p.features & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)) {
        n->ctrl_vq = virtio_add_queue(&n->vdev, 64, virtio_net_handle_ctrl);
    }
    n->nc = net_client_new(&virtio_net_info, n->name, n);
    memcpy(n->nc->cmdline_mac, c.mac, ETH_ALEN);
    n->nc->announce_rarp_fallback = c.p.rarp_mode == 0;
    n->rxfilter_notify_enabled = true;
    if (c.backend && !net_client_connect(n->nc, c.backend, errp)) {
        g_prefix_error(errp, "-device virtio-net-pci: ");
        virtio_net_free(&n->vdev);
        return NULL;
    }
    /* Offloads need the guest's header to reach the kernel (tap); a backend without
     * (socket) gets whole frames, and the features are not offered, as in QEMU. */
    if (c.p.offloads && c.backend && net_vnet_hdr_enable(n->nc)) {
        n->vdev.host_features |= c.p.offloads;
    }
    return &n->vdev;
}

static void virtio_net_realized(VirtIODevice *vdev)
{
    VirtIONet *n = virtio_net_of(vdev);
    n->status = n->nc->link_down ? 0 : VIRTIO_NET_S_LINK_UP;
    n->runstate_notifier =
        vm_state_notify_add(virtio_net_vm_state_change, n, VM_STATE_PRIO_DEVICE);
}

/* Unplug: the link to the netdev goes with the free; the netdev stays for another NIC. */
static void virtio_net_unrealize(VirtIODevice *vdev)
{
    VirtIONet *n = virtio_net_of(vdev);
    vm_state_notify_remove(n->runstate_notifier);
    virtio_net_tx_reset(n); /* no transmit run may follow the unplug */
}

static const VirtioDeviceClass virtio_net_class = {
    .name = "virtio-net",
    .class_code = 0x020000, /* Ethernet controller */
    .create = virtio_net_create,
    .realized = virtio_net_realized,
    .unrealize = virtio_net_unrealize,
    .free = virtio_net_free,
    .vmsd = &vmstate_virtio_net,
    .vdev_offset = offsetof(VirtIONet, vdev),
};
VIRTIO_PCI_DEVICE_REGISTER(virtio_net_class, "virtio-net-pci",
                           "virtio network device (modern PCI)")
