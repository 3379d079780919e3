/*
 * hub.c: QEMU's `-netdev hubport,id=ID,hubid=N`: every port of hub N repeats each frame
 * it gets from its peer (a NIC) to the peers of the other ports of the same hub, like an
 * Ethernet hub. A port alone on its hub is a sink: what its NIC sends is dropped there
 * (QEMU's qtests use that for a NIC without a network).
 */
#include "error.h"
#include "iov.h"
#include "net/net.h"

typedef struct Hub {
    unsigned id;
    GPtrArray *ports; /* HubPort * */
} Hub;

typedef struct HubPort {
    Hub *hub;
    NetClientState *nc;
} HubPort;

/* The hubs that have ports: the registry, one per process, big lock held. */
static GPtrArray *hubs;

static Hub *hub_get(unsigned id)
{
    if (!hubs) {
        hubs = g_ptr_array_new();
    }
    for (guint i = 0; i < hubs->len; i++) {
        Hub *h = g_ptr_array_index(hubs, i);
        if (h->id == id) {
            return h;
        }
    }
    Hub *h = g_new0(Hub, 1);
    h->id = id;
    h->ports = g_ptr_array_new();
    g_ptr_array_add(hubs, h);
    return h;
}

static ssize_t hub_port_receive(NetClientState *nc, const struct iovec *iov, int iovcnt)
{
    HubPort *port = nc->opaque;
    for (guint i = 0; i < port->hub->ports->len; i++) {
        HubPort *other = g_ptr_array_index(port->hub->ports, i);
        if (other != port) {
            net_send(other->nc, iov, iovcnt); /* dropped at that port if it cannot take it */
        }
    }
    return iov_size(iov, iovcnt);
}

static void hub_port_cleanup(NetClientState *nc)
{
    HubPort *port = nc->opaque;
    Hub *h = port->hub;
    g_ptr_array_remove(h->ports, port);
    if (h->ports->len == 0) {
        g_ptr_array_remove(hubs, h);
        g_ptr_array_unref(h->ports);
        g_free(h);
    }
    if (hubs && hubs->len == 0) {
        g_clear_pointer(&hubs, g_ptr_array_unref);
    }
    g_free(port);
}

static const NetClientInfo hub_port_info = {
    .kind = NET_CLIENT_BACKEND,
    .type = "hubport",
    .receive = hub_port_receive,
    .cleanup = hub_port_cleanup,
};

static bool hub_port_create(const TernOpts *o, GError **errp)
{
    static const char *const keys[] = {"hubid", NULL};
    uint64_t id;
    if (!opts_check_keys(o, keys, errp)) {
        return false;
    }
    if (!opts_get(o, "hubid")) {
        return netdev_error(errp, o, "needs hubid=N");
    }
    if (!opts_get_uint(o, "hubid", 0, G_MAXINT32, &id, errp)) {
        return false;
    }
    HubPort *port = g_new0(HubPort, 1);
    port->hub = hub_get(id);
    port->nc = net_client_new(&hub_port_info, o->id, port);
    g_ptr_array_add(port->hub->ports, port);
    return true;
}

static const NetBackendClass hub_port_class = {
    .type = "hubport",
    .create = hub_port_create,
};

NET_BACKEND_REGISTER(hub_port_class)
