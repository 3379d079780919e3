/*
 * virtio-net-props.c: the NIC's command-line properties, declared once. One table gives
 * each property's name, kind, default, feature bit or field, dependencies and doc; the
 * parser, the defaults, the dependency checks (at start-up and on the guest's
 * FEATURES_OK), the feature names of load errors and the docs list are all read from it.
 */
#include <stddef.h>
#include <string.h>
#include "error.h"
#include "hw/virtio-net.h"

#define B(x) VIRTIO_BIT(VIRTIO_NET_F_##x)
#define F(x) .bit = VIRTIO_NET_F_##x
#define FIELD(f) .offset = offsetof(VirtIONetProps, f)

static bool vnet_check_queue_size(const VirtIONetProp *p, uint64_t v, GError **errp)
{
    if (v < VIRTIO_NET_QUEUE_SIZE || (v & (v - 1))) {
        return tern_error_fail(errp,
                               "-device virtio-net-pci: Invalid %s (= %" G_GUINT64_FORMAT
                               "), must be a power of 2 "
                               "between %d and %d.",
                               p->name, v, VIRTIO_NET_QUEUE_SIZE, VIRTQUEUE_MAX_SIZE);
    }
    return true;
}

static bool vnet_check_burst(const VirtIONetProp *p, uint64_t v, GError **errp)
{
    if (v == 0) {
        return tern_error_fail(
            errp,
            "-device virtio-net-pci: x-txburst=0: a transmit run must send at least one frame");
    }
    return true;
}

static const char *const vnet_tx_values[] = {"bh", "timer", NULL};
static const char *const vnet_rarp_values[] = {"fallback", "always", NULL};

/*
 * Feature bits come first: the dependency checks need all of them. The order is the order
 * in which the properties are read, and so which error a command line with several
 * mistakes gets first; QEMU's names and defaults.
 */
const VirtIONetProp virtio_net_props[] = {
    {"mrg_rxbuf", VNET_PROP_FEATURE, F(MRG_RXBUF), .def = 1, .doc = "mergeable rx buffers"},
    {"status", VNET_PROP_FEATURE, F(STATUS), .def = 1, .doc = "link status in config space"},
    {"ctrl_vq", VNET_PROP_FEATURE, F(CTRL_VQ), .def = 1, .doc = "the control queue"},
    {"ctrl_rx", VNET_PROP_FEATURE, F(CTRL_RX), .def = 1, .needs = B(CTRL_VQ),
     .needs_prop = "ctrl_vq", .doc = "rx mode control (promiscuous, all-multicast)"},
    {"ctrl_vlan", VNET_PROP_FEATURE, F(CTRL_VLAN), .def = 1, .needs = B(CTRL_VQ),
     .needs_prop = "ctrl_vq", .doc = "VLAN filtering"},
    {"ctrl_rx_extra", VNET_PROP_FEATURE, F(CTRL_RX_EXTRA), .def = 1, .needs = B(CTRL_VQ),
     .needs_prop = "ctrl_vq", .needs2 = B(CTRL_RX), .needs_prop2 = "ctrl_rx",
     .doc = "extra rx modes (no unicast, no multicast, no broadcast)"},
    {"ctrl_mac_addr", VNET_PROP_FEATURE, F(CTRL_MAC_ADDR), .def = 1, .needs = B(CTRL_VQ),
     .needs_prop = "ctrl_vq", .doc = "the driver sets the MAC through the control queue"},
    {"guest_announce", VNET_PROP_FEATURE, F(GUEST_ANNOUNCE), .def = 1, .needs = B(CTRL_VQ),
     .needs_prop = "ctrl_vq", .doc = "the guest announces itself after a migration"},
    {"event_idx", VNET_PROP_FEATURE, .bit = VIRTIO_RING_F_EVENT_IDX, .def = 1,
     .doc = "used/avail event index"},
    {"indirect_desc", VNET_PROP_FEATURE, .bit = VIRTIO_RING_F_INDIRECT_DESC, .def = 1,
     .doc = "indirect descriptors"},
    /* Offloads: segmentation needs the checksum offload of the same direction, ECN
     * needs segmentation (either family); a dependent one defaults to its base. */
    {"csum", VNET_PROP_OFFLOAD, F(CSUM), .def = 1, .doc = "host checksum offload"},
    {"guest_csum", VNET_PROP_OFFLOAD, F(GUEST_CSUM), .def = 1, .doc = "guest checksum offload"},
    {"host_tso4", VNET_PROP_OFFLOAD, F(HOST_TSO4), .def = 1, .needs = B(CSUM),
     .needs_prop = "csum=on", .doc = "host TCPv4 segmentation"},
    {"host_tso6", VNET_PROP_OFFLOAD, F(HOST_TSO6), .def = 1, .needs = B(CSUM),
     .needs_prop = "csum=on", .doc = "host TCPv6 segmentation"},
    {"host_ecn", VNET_PROP_OFFLOAD, F(HOST_ECN), .def = 1, .needs = B(HOST_TSO4) | B(HOST_TSO6),
     .needs_prop = "host_tso4=on or host_tso6=on", .doc = "host segmentation with ECN"},
    {"guest_tso4", VNET_PROP_OFFLOAD, F(GUEST_TSO4), .def = 1, .needs = B(GUEST_CSUM),
     .needs_prop = "guest_csum=on", .doc = "guest TCPv4 segmentation"},
    {"guest_tso6", VNET_PROP_OFFLOAD, F(GUEST_TSO6), .def = 1, .needs = B(GUEST_CSUM),
     .needs_prop = "guest_csum=on", .doc = "guest TCPv6 segmentation"},
    {"guest_ecn", VNET_PROP_OFFLOAD, F(GUEST_ECN), .def = 1,
     .needs = B(GUEST_TSO4) | B(GUEST_TSO6), .needs_prop = "guest_tso4=on or guest_tso6=on",
     .doc = "guest segmentation with ECN"},
    /* QEMU's properties for features tern does not implement. */
    {"mq", VNET_PROP_OFF_ONLY, .doc = "multiqueue (not implemented)"},
    {"gso", VNET_PROP_OFF_ONLY, .doc = "(not implemented)"},
    {"guest_ufo", VNET_PROP_OFF_ONLY, .doc = "(not implemented)"},
    {"host_ufo", VNET_PROP_OFF_ONLY, .doc = "(not implemented)"},
    {"ctrl_guest_offloads", VNET_PROP_OFF_ONLY, .doc = "(not implemented)"},
    {"guest_rsc_ext", VNET_PROP_OFF_ONLY, .doc = "(not implemented)"},
    {"rss", VNET_PROP_OFF_ONLY, .doc = "(not implemented)"},
    {"hash", VNET_PROP_OFF_ONLY, .doc = "(not implemented)"},
    {"host_uso", VNET_PROP_OFF_ONLY, .doc = "(not implemented)"},
    {"guest_uso4", VNET_PROP_OFF_ONLY, .doc = "(not implemented)"},
    {"guest_uso6", VNET_PROP_OFF_ONLY, .doc = "(not implemented)"},
    {"mtu_bypass", VNET_PROP_OFF_ONLY, .doc = "(not implemented)"},
    {"rx_queue_size", VNET_PROP_UINT, FIELD(rx_size), .def = VIRTIO_NET_QUEUE_SIZE,
     .max = VIRTQUEUE_MAX_SIZE, .check = vnet_check_queue_size,
     .doc = "rx ring size, a power of 2 from 256 to 1024"},
    {"tx_queue_size", VNET_PROP_UINT, FIELD(tx_size), .def = VIRTIO_NET_QUEUE_SIZE,
     .max = VIRTQUEUE_MAX_SIZE, .check = vnet_check_queue_size,
     .doc = "tx ring size, a power of 2 from 256 to 1024"},
    {"announce_learned", VNET_PROP_BOOL, FIELD(learned), .def = 1,
     .doc = "RARP also for the addresses the guest transmitted from"},
    {"announce_ageing", VNET_PROP_UINT, FIELD(ageing), .def = VIRTIO_NET_AGEING_DEFAULT,
     .max = VIRTIO_NET_AGEING_MAX, .doc = "seconds a learned address is kept"},
    /* x-txtimer is in ns, as in QEMU (its uint32 bounds it). */
    {"x-txtimer", VNET_PROP_UINT, FIELD(tx_interval_ns), .def = VIRTIO_NET_TX_INTERVAL_NS,
     .max = UINT32_MAX, .doc = "transmit delay in ns"},
    {"x-txburst", VNET_PROP_UINT, FIELD(tx_burst), .def = VIRTIO_NET_TX_BURST, .max = INT32_MAX,
     .check = vnet_check_burst, .doc = "frames per transmit run"},
    {"tx", VNET_PROP_ENUM, FIELD(tx_mode), .def = VIRTIO_NET_TX_BH, .values = vnet_tx_values,
     .doc = "when transmit runs"},
    {"announce_rarp", VNET_PROP_ENUM, FIELD(rarp_mode), .def = 1, .values = vnet_rarp_values,
     .doc = "RARP on every announce, or only when the guest cannot announce"},
    /* Strings: read by the model, which resolves them. The transport's own (addr, bus,
     * romfile for PCI) are the transport's. */
    {"netdev", VNET_PROP_STRING, .doc = "the backend's id"},
    {"mac", VNET_PROP_STRING, .doc = "unicast MAC (default 52:54:00:12:34:56 + n)"},
    {NULL},
};

/* Whether property p's dependency holds in feature set f (any one of its bits). */
static bool vnet_prop_dep_ok(const VirtIONetProp *p, uint64_t f)
{
    if (p->kind == VNET_PROP_OFFLOAD) {
        return !p->needs || (f & p->needs);
    }
    return (f & p->needs) == p->needs && (f & p->needs2) == p->needs2;
}

const char *virtio_net_props_invalid(uint64_t f)
{
    for (const VirtIONetProp *p = virtio_net_props; p->name; p++) {
        if ((p->kind == VNET_PROP_FEATURE || p->kind == VNET_PROP_OFFLOAD) &&
            (f & VIRTIO_BIT(p->bit)) && !vnet_prop_dep_ok(p, f)) {
            return p->kind == VNET_PROP_FEATURE ? "a control feature without the control queue"
                                                : "an offload without the offload it builds on";
        }
    }
    return NULL;
}

const char *virtio_net_props_feature_name(unsigned bit)
{
    for (const VirtIONetProp *p = virtio_net_props; p->name; p++) {
        if ((p->kind == VNET_PROP_FEATURE || p->kind == VNET_PROP_OFFLOAD) && p->bit == bit) {
            return p->name;
        }
    }
    return NULL;
}

static bool vnet_read_bool(const TernOpts *o, const VirtIONetProp *p, VirtIONetProps *c,
                           GError **errp)
{
    bool on;
    switch (p->kind) {
    case VNET_PROP_FEATURE:
        if (!opts_get_bool(o, p->name, p->def, &on, errp)) {
            return false;
        }
        c->features |= on ? VIRTIO_BIT(p->bit) : 0;
        return true;
    case VNET_PROP_OFFLOAD: {
        bool dep_ok = vnet_prop_dep_ok(p, c->offloads);
        if (!opts_get_bool(o, p->name, p->def && dep_ok, &on, errp)) {
            return false;
        }
        if (on && !dep_ok) {
            return tern_error_fail(errp,
                                   "-device virtio-net-pci: %s=on requires %s; set %s=off",
                                   p->name, p->needs_prop, p->name);
        }
        c->offloads |= on ? VIRTIO_BIT(p->bit) : 0;
        return true;
    }
    case VNET_PROP_OFF_ONLY:
        if (!opts_get_bool(o, p->name, false, &on, errp)) {
            return false;
        }
        if (on) {
            return tern_error_fail(errp,
                                   "-device virtio-net-pci: %s=on is not supported by tern "
                                   "(use %s=off or leave it out)",
                                   p->name, p->name);
        }
        return true;
    default:
        if (!opts_get_bool(o, p->name, p->def, &on, errp)) {
            return false;
        }
        *(bool *)((char *)c + p->offset) = on;
        return true;
    }
}

static bool vnet_dep_fail(const char *prop, const char *needs, GError **errp)
{
    return tern_error_fail(errp,
                           "-device virtio-net-pci: %s=on requires %s=on (a Linux "
                           "guest refuses the device "
                           "otherwise); set %s=off or %s=on",
                           prop, needs, prop, needs);
}

/* The features' dependencies, checked once all are read (5.1.3.1: Linux refuses such a
 * device). */
static bool vnet_check_deps(const VirtIONetProps *c, GError **errp)
{
    uint64_t f = c->features;
    for (const VirtIONetProp *p = virtio_net_props; p->name; p++) {
        if (p->kind != VNET_PROP_FEATURE || !(f & VIRTIO_BIT(p->bit)) || !p->needs) {
            continue;
        }
        if ((f & p->needs) != p->needs) {
            return vnet_dep_fail(p->name, p->needs_prop, errp);
        }
        if ((f & p->needs2) != p->needs2) {
            return vnet_dep_fail(p->name, p->needs_prop2, errp);
        }
    }
    if ((f & B(GUEST_ANNOUNCE)) && !(f & B(STATUS))) {
        return tern_error_fail(
            errp,
            "-device virtio-net-pci: guest_announce=on requires status=on (the guest reads the "
            "announce bit from the status field); set guest_announce=off "
            "or status=on");
    }
    return true;
}

static bool vnet_read_value(const TernOpts *o, const VirtIONetProp *p, VirtIONetProps *c,
                            GError **errp)
{
    void *field = (char *)c + p->offset;
    if (p->kind == VNET_PROP_BOOL) {
        return vnet_read_bool(o, p, c, errp);
    }
    if (p->kind == VNET_PROP_UINT) {
        return opts_get_uint(o, p->name, p->def, p->max, field, errp) &&
               (!p->check || p->check(p, *(uint64_t *)field, errp));
    }
    if (p->kind == VNET_PROP_ENUM) {
        const char *v = opts_get(o, p->name);
        *(unsigned *)field = p->def;
        if (!v) {
            return true;
        }
        for (unsigned i = 0; p->values[i]; i++) {
            if (strcmp(v, p->values[i]) == 0) {
                *(unsigned *)field = i;
                return true;
            }
        }
        return tern_error_fail(errp, "-device virtio-net-pci: %s=%s: expected '%s' or '%s'",
                               p->name, v, p->values[0], p->values[1]);
    }
    return true; /* strings: the model reads them */
}

bool virtio_net_props_parse(const TernOpts *o, const char *const *transport_props,
                            VirtIONetProps *c, GError **errp)
{
    size_t n = 0, t = 0;
    while (transport_props && transport_props[t]) {
        t++;
    }
    g_autofree const char **known = g_new(const char *, G_N_ELEMENTS(virtio_net_props) + t);
    for (const VirtIONetProp *p = virtio_net_props; p->name; p++) {
        known[n++] = p->name;
    }
    for (size_t i = 0; i < t; i++) {
        known[n++] = transport_props[i];
    }
    known[n] = NULL;
    if (!opts_check_keys(o, known, errp)) {
        return false;
    }
    c->features = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC);
    const VirtIONetProp *p = virtio_net_props;
    for (; p->name && p->kind <= VNET_PROP_OFF_ONLY; p++) {
        if (!vnet_read_bool(o, p, c, errp)) {
            return false;
        }
    }
    if (!vnet_check_deps(c, errp)) {
        return false;
    }
    for (; p->name; p++) {
        if (!vnet_read_value(o, p, c, errp)) {
            return false;
        }
    }
    return true;
}

char *virtio_net_props_doc(void)
{
    static const char *const kinds[] = {
        [VNET_PROP_FEATURE] = "on/off", [VNET_PROP_OFFLOAD] = "on/off",
        [VNET_PROP_OFF_ONLY] = "off",   [VNET_PROP_BOOL] = "on/off",
        [VNET_PROP_UINT] = "number",    [VNET_PROP_ENUM] = "enum",
        [VNET_PROP_STRING] = "string",
    };
    GString *s = g_string_new("| property | value | default | what |\n|---|---|---|---|\n");
    for (const VirtIONetProp *p = virtio_net_props; p->name; p++) {
        g_autofree char *def = NULL;
        switch (p->kind) {
        case VNET_PROP_FEATURE:
        case VNET_PROP_OFFLOAD:
        case VNET_PROP_BOOL:
            def = g_strdup(p->def ? "on" : "off");
            break;
        case VNET_PROP_OFF_ONLY:
            def = g_strdup("off");
            break;
        case VNET_PROP_UINT:
            def = g_strdup_printf("%" G_GUINT64_FORMAT, p->def);
            break;
        case VNET_PROP_ENUM:
            def = g_strdup(p->values[p->def]);
            break;
        default:
            def = g_strdup("");
        }
        g_autofree char *value = p->kind == VNET_PROP_ENUM ? g_strjoinv("/", (char **)p->values)
                                                           : g_strdup(kinds[p->kind]);
        g_string_append_printf(s, "| `%s` | %s | %s | %s |\n", p->name, value, def, p->doc);
    }
    return g_string_free(s, false);
}
