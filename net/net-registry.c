/* net-registry.c: the registry of -netdev backend types, and creating backends by it. */
#include <fcntl.h>
#include "error.h"
#include "monitor/fds.h"
#include "inherited-fds.h"
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

bool netdev_error(GError **errp, const TernOpts *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "-netdev %s,id=%s: %s", o->driver, o->id,
                msg);
    return false;
}

bool netdev_create(const TernOpts *o, GError **errp)
{
    const NetBackendClass *nc = o->driver ? net_backend_class_find(o->driver) : NULL;
    if (!nc) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "-netdev %s: backend type not supported (supported: tap, socket, hubport)",
                    o->driver ? o->driver : "(none)");
        return false;
    }
    if (!o->id) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "-netdev %s: Parameter 'id' is missing", o->driver);
        return false;
    }
    if (net_backend_find(o->id)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "Duplicate ID '%s' for netdev",
                    o->id);
        return false;
    }
    return nc->create(o, errp);
}

bool netdevs_create(GPtrArray *netdev_opts, GError **errp)
{
    for (guint i = 0; i < netdev_opts->len; i++) {
        if (!netdev_create(g_ptr_array_index(netdev_opts, i), errp)) {
            return false;
        }
    }
    return true;
}

int netdev_fd_get(const TernOpts *o, const char *fdstr, bool *owned, GError **errp)
{
    guint64 n;
    *owned = false;
    if (g_ascii_string_to_unsigned(fdstr, 10, 0, G_MAXINT, &n, NULL)) {
        g_autoptr(GError) err = NULL;
        if (fcntl((int)n, F_GETFD) < 0) {
            netdev_error(errp, o, "fd=%s is not an open file descriptor", fdstr);
            return -1;
        }
        if (!inherited_fd_claim((int)n, &err)) {
            netdev_error(errp, o, "fd=%s: %s", fdstr, err->message);
            return -1;
        }
        return (int)n;
    }
    /* A name: a descriptor passed with QMP getfd (libvirt hands tap devices over so). */
    GError *err = NULL;
    int fd = monitor_fd_take(fdstr, &err);
    if (fd < 0) {
        netdev_error(errp, o, "%s", err->message);
        g_error_free(err);
        return -1;
    }
    *owned = true;
    return fd;
}

void netdev_fd_put_back(int fd, bool owned)
{
    if (owned) {
        close(fd);
    } else {
        inherited_fd_release(fd);
    }
}
