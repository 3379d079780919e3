/* net-registry.c: the registry of -netdev backend types. */
#include "error.h"
#include "net/net.h"

static GPtrArray *backend_classes; /* const NetBackendClass *: the registry */

void net_backend_class_register(const NetBackendClass *nc)
{
    if (!backend_classes) {
        backend_classes = g_ptr_array_new();
    }
    g_ptr_array_add(backend_classes, (gpointer)nc);
}

const NetBackendClass *net_backend_class_find(const char *type)
{
    for (guint i = 0; backend_classes && i < backend_classes->len; i++) {
        const NetBackendClass *nc = g_ptr_array_index(backend_classes, i);
        if (g_strcmp0(nc->type, type) == 0) {
            return nc;
        }
    }
    return NULL;
}

bool netdevs_create(GPtrArray *netdev_opts, GError **errp)
{
    for (guint i = 0; i < netdev_opts->len; i++) {
        const TernOpts *o = g_ptr_array_index(netdev_opts, i);
        const NetBackendClass *nc = o->driver ? net_backend_class_find(o->driver) : NULL;
        if (!nc) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "-netdev %s: backend type not supported (supported: tap, socket)",
                        o->driver ? o->driver : "(none)");
            return false;
        }
        if (!nc->create(o, errp)) {
            return false;
        }
    }
    return true;
}
