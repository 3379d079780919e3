/*
 * virtio-net-ctrl.c: the control queue (virtio 1.x 5.1.6.5) and the receive filter it
 * programs, QMP query-rx-filter and the NIC_RX_FILTER_CHANGED event.
 *
 * A command is a 2-byte header (class, command), its data, and a 1-byte ack the device
 * writes. Lengths must match each command exactly; anything malformed, unknown, or not
 * negotiated is answered VIRTIO_NET_ERR. Only a chain that has no room for the header or
 * the ack is a device error: there is nowhere to answer it.
 */
#include <string.h>
#include "bswap.h"
#include "error.h"
#include "hw/virtio-net.h"
#include "monitor/qmp.h"
#include "net/announce.h"

/* Longest command data accepted (a MAC table with overflowing counts still fits). */
#define CTRL_DATA_MAX 65536

static bool has(const VirtIONet *n, unsigned bit)
{
    return virtio_has_feature(&n->vdev, bit);
}

void virtio_net_rxfilter_notify(VirtIONet *n)
{
    if (!n->rxfilter_notify_enabled) {
        return;
    }
    JsonObject *data = json_object_new();
    if (n->dev_id) {
        json_object_set_string_member(data, "name", n->dev_id);
    }
    json_object_set_string_member(data, "path", n->qom_path);
    qmp_event_emit("NIC_RX_FILTER_CHANGED", data);
    /* Once until the next query-rx-filter: a chatty guest cannot flood the monitor. */
    n->rxfilter_notify_enabled = false;
}

void virtio_net_rx_filter_reset(VirtIONet *n)
{
    n->promisc = true; /* QEMU's power-on mode, until the driver programs the filter */
    n->allmulti = n->alluni = n->nomulti = n->nouni = n->nobcast = false;
    memset(&n->mac_table, 0, sizeof(n->mac_table));
    memset(n->vlans, 0, sizeof(n->vlans));
}

static uint8_t ctrl_rx(VirtIONet *n, uint8_t cmd, const uint8_t *d, size_t len)
{
    bool *modes[] = {
        [VIRTIO_NET_CTRL_RX_PROMISC] = &n->promisc,
        [VIRTIO_NET_CTRL_RX_ALLMULTI] = &n->allmulti,
        [VIRTIO_NET_CTRL_RX_ALLUNI] = &n->alluni,
        [VIRTIO_NET_CTRL_RX_NOMULTI] = &n->nomulti,
        [VIRTIO_NET_CTRL_RX_NOUNI] = &n->nouni,
        [VIRTIO_NET_CTRL_RX_NOBCAST] = &n->nobcast,
    };
    if (!has(n, VIRTIO_NET_F_CTRL_RX) || cmd >= G_N_ELEMENTS(modes) || len != 1 || d[0] > 1) {
        return VIRTIO_NET_ERR;
    }
    /* The last four are VIRTIO_NET_F_CTRL_RX_EXTRA's. */
    if (cmd > VIRTIO_NET_CTRL_RX_ALLMULTI && !has(n, VIRTIO_NET_F_CTRL_RX_EXTRA)) {
        return VIRTIO_NET_ERR;
    }
    *modes[cmd] = d[0];
    virtio_net_rxfilter_notify(n);
    return VIRTIO_NET_OK;
}

/* MAC_TABLE_SET: le32 n, n unicast MACs, le32 m, m multicast MACs, nothing more. */
static uint8_t ctrl_mac_table(VirtIONet *n, const uint8_t *d, size_t len)
{
    VirtIONetMacTable t = {0};
    if (len < 4) {
        return VIRTIO_NET_ERR;
    }
    uint64_t uni = ld_le32(d);
    d += 4;
    len -= 4;
    if (uni * ETH_ALEN + 4 > len) {
        return VIRTIO_NET_ERR;
    }
    if (uni <= VIRTIO_NET_MAC_TABLE_ENTRIES) {
        memcpy(t.macs, d, uni * ETH_ALEN);
        t.in_use = uni;
    } else {
        t.uni_overflow = true;
    }
    d += uni * ETH_ALEN;
    len -= uni * ETH_ALEN;
    t.first_multi = t.in_use;
    uint64_t multi = ld_le32(d);
    d += 4;
    len -= 4;
    if (multi * ETH_ALEN != len) {
        return VIRTIO_NET_ERR;
    }
    if (multi <= VIRTIO_NET_MAC_TABLE_ENTRIES - t.in_use) {
        memcpy(t.macs + t.in_use * ETH_ALEN, d, multi * ETH_ALEN);
        t.in_use += multi;
    } else {
        t.multi_overflow = true;
    }
    n->mac_table = t;
    virtio_net_rxfilter_notify(n);
    return VIRTIO_NET_OK;
}

static uint8_t ctrl_mac(VirtIONet *n, uint8_t cmd, const uint8_t *d, size_t len)
{
    switch (cmd) {
    case VIRTIO_NET_CTRL_MAC_ADDR_SET:
        if (!has(n, VIRTIO_NET_F_CTRL_MAC_ADDR) || len != ETH_ALEN) {
            return VIRTIO_NET_ERR;
        }
        memcpy(n->guest_mac, d, ETH_ALEN);
        n->vdev.config_generation++; /* the mac field of config space changed */
        virtio_net_rxfilter_notify(n);
        return VIRTIO_NET_OK;
    case VIRTIO_NET_CTRL_MAC_TABLE_SET:
        return has(n, VIRTIO_NET_F_CTRL_RX) ? ctrl_mac_table(n, d, len) : VIRTIO_NET_ERR;
    }
    return VIRTIO_NET_ERR;
}

static uint8_t ctrl_vlan(VirtIONet *n, uint8_t cmd, const uint8_t *d, size_t len)
{
    if (!has(n, VIRTIO_NET_F_CTRL_VLAN) || len != 2) {
        return VIRTIO_NET_ERR;
    }
    uint16_t vid = ld_le16(d);
    if (vid >= VIRTIO_NET_MAX_VLAN) {
        return VIRTIO_NET_ERR;
    }
    switch (cmd) {
    case VIRTIO_NET_CTRL_VLAN_ADD:
        n->vlans[vid >> 5] |= 1u << (vid & 31);
        break;
    case VIRTIO_NET_CTRL_VLAN_DEL:
        n->vlans[vid >> 5] &= ~(1u << (vid & 31));
        break;
    default:
        return VIRTIO_NET_ERR;
    }
    virtio_net_rxfilter_notify(n);
    return VIRTIO_NET_OK;
}

uint8_t virtio_net_ctrl_command(VirtIONet *n, uint8_t cls, uint8_t cmd, const uint8_t *data,
                                size_t len)
{
    switch (cls) {
    case VIRTIO_NET_CTRL_RX:
        return ctrl_rx(n, cmd, data, len);
    case VIRTIO_NET_CTRL_MAC:
        return ctrl_mac(n, cmd, data, len);
    case VIRTIO_NET_CTRL_VLAN:
        return ctrl_vlan(n, cmd, data, len);
    case VIRTIO_NET_CTRL_ANNOUNCE:
        return virtio_net_announce_ack(n, cmd, len);
    }
    return VIRTIO_NET_ERR; /* MQ (not offered), GUEST_OFFLOADS (not offered), unknown */
}

void virtio_net_handle_ctrl(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIONet *n = virtio_net_of(vdev);
    VirtQueueElement *elem;
    /* Stopped (maybe for the last round of a migration, whose RAM may already be sent):
     * touch neither the rings nor the filter; the command is served when the VM runs,
     * here or on the destination. */
    if (!runstate_is_running()) {
        return;
    }
    while ((elem = virtqueue_pop(vq))) {
        if (elem->out_len < 2 || elem->in_len < 1) {
            virtio_error(vdev, "control command %u has no header or no ack buffer",
                         elem->index);
            virtqueue_elem_free(elem);
            return;
        }
        uint8_t ack = VIRTIO_NET_ERR;
        if (elem->out_len - 2 <= CTRL_DATA_MAX) {
            size_t len = elem->out_len;
            g_autofree uint8_t *buf = g_malloc(len);
            if (virtqueue_elem_read(vdev, elem, 0, buf, len) != len) {
                virtqueue_elem_free(elem);
                return; /* unreachable buffer: the device is broken now */
            }
            ack = virtio_net_ctrl_command(n, buf[0], buf[1], buf + 2, len - 2);
        }
        /* The command took effect (an ACK cleared S_ANNOUNCE) before the buffer is used. */
        virtqueue_elem_write(vdev, elem, 0, &ack, 1);
        virtqueue_push(vq, elem, 1);
        virtqueue_elem_free(elem);
        virtio_notify(vdev, vq);
    }
}

/* ---- the receive filter (QEMU's receive_filter, the spec's 5.1.6.5.1) -------------- */

static bool vlan_allowed(const VirtIONet *n, uint16_t vid)
{
    return n->vlans[vid >> 5] & (1u << (vid & 31));
}

static bool mac_in_table(const VirtIONet *n, const uint8_t *mac, unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++) {
        if (memcmp(mac, n->mac_table.macs + i * ETH_ALEN, ETH_ALEN) == 0) {
            return true;
        }
    }
    return false;
}

bool virtio_net_filter_names(const VirtIONet *n, const uint8_t *mac, uint16_t vlan)
{
    return (vlan == 0 || vlan_allowed(n, vlan)) &&
           (memcmp(mac, n->guest_mac, ETH_ALEN) == 0 ||
            mac_in_table(n, mac, 0, n->mac_table.first_multi));
}

bool virtio_net_receive_filter(const VirtIONet *n, const uint8_t *frame, size_t len)
{
    static const uint8_t bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (n->promisc) {
        return true;
    }
    if (len < 14) {
        return false;
    }
    if (frame[12] == 0x81 && frame[13] == 0x00) {
        if (len < 16 || !vlan_allowed(n, (frame[14] << 8 | frame[15]) & 0xfff)) {
            return false;
        }
    }
    const VirtIONetMacTable *t = &n->mac_table;
    if (frame[0] & 1) {
        if (memcmp(frame, bcast, ETH_ALEN) == 0) {
            return !n->nobcast;
        }
        if (n->nomulti) {
            return false;
        }
        return n->allmulti || t->multi_overflow ||
               mac_in_table(n, frame, t->first_multi, t->in_use);
    }
    if (n->nouni) {
        return false;
    }
    return n->alluni || t->uni_overflow || memcmp(frame, n->guest_mac, ETH_ALEN) == 0 ||
           mac_in_table(n, frame, 0, t->first_multi);
}

/* ---- QMP ---------------------------------------------------------------------------- */

static const char *rx_state(bool none, bool all)
{
    return none ? "none" : all ? "all" : "normal";
}

static JsonArray *mac_list(const VirtIONet *n, unsigned from, unsigned to)
{
    JsonArray *a = json_array_new();
    for (unsigned i = from; i < to; i++) {
        g_autofree char *s = net_format_mac(n->mac_table.macs + i * ETH_ALEN);
        json_array_add_string_element(a, s);
    }
    return a;
}

static JsonObject *rx_filter_info(VirtIONet *n)
{
    JsonObject *o = json_object_new();
    g_autofree char *main_mac = net_format_mac(n->guest_mac);
    json_object_set_string_member(o, "name", n->name);
    json_object_set_boolean_member(o, "promiscuous", n->promisc);
    json_object_set_string_member(o, "multicast", rx_state(n->nomulti, n->allmulti));
    json_object_set_string_member(o, "unicast", rx_state(n->nouni, n->alluni));
    /* QEMU reports nobcast here (a bug); tern reports what the name says. */
    json_object_set_boolean_member(o, "broadcast-allowed", !n->nobcast);
    json_object_set_boolean_member(o, "multicast-overflow", n->mac_table.multi_overflow);
    json_object_set_boolean_member(o, "unicast-overflow", n->mac_table.uni_overflow);
    json_object_set_string_member(o, "main-mac", main_mac);
    JsonArray *vlans = json_array_new();
    bool filtering = has(n, VIRTIO_NET_F_CTRL_VLAN);
    json_object_set_string_member(o, "vlan", filtering ? "normal" : "all");
    for (unsigned vid = 0; filtering && vid < VIRTIO_NET_MAX_VLAN; vid++) {
        if (vlan_allowed(n, vid)) {
            json_array_add_int_element(vlans, vid);
        }
    }
    json_object_set_array_member(o, "vlan-table", vlans);
    json_object_set_array_member(o, "unicast-table", mac_list(n, 0, n->mac_table.first_multi));
    json_object_set_array_member(o, "multicast-table",
                                 mac_list(n, n->mac_table.first_multi, n->mac_table.in_use));
    n->rxfilter_notify_enabled = true; /* the next change is reported again */
    return o;
}

static JsonNode *qmp_query_rx_filter(JsonObject *args, QmpContext *ctx, GError **errp)
{
    const char *name = json_object_has_member(args, "name")
                           ? json_object_get_string_member(args, "name")
                           : NULL;
    JsonArray *list = json_array_new();
    if (name) {
        /* QEMU's messages, GenericError. */
        NetClientState *nc = net_client_find(name);
        VirtIONet *n = virtio_net_from_nc(nc);
        if (!nc) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "invalid net client name: %s",
                        name);
        } else if (nc->info->kind != NET_CLIENT_NIC) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "net client(%s) isn't a NIC",
                        name);
        } else if (!n) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "net client(%s) doesn't support rx-filter querying", name);
        } else {
            json_array_add_object_element(list, rx_filter_info(n));
            return qmp_node_take_array(list);
        }
        json_array_unref(list);
        return NULL;
    }
    GPtrArray *nics = net_nics();
    for (guint i = 0; i < nics->len; i++) {
        VirtIONet *n = virtio_net_from_nc(g_ptr_array_index(nics, i));
        if (n) {
            json_array_add_object_element(list, rx_filter_info(n));
        }
    }
    return qmp_node_take_array(list);
}
QMP_COMMAND("query-rx-filter", qmp_query_rx_filter)
