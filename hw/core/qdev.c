/* qdev.c: the registry of device models that -device can name. */
#include "error.h"
#include "hw/qdev.h"

static GPtrArray *device_classes; /* const DeviceClass *: the registry */

void device_class_register(const DeviceClass *dc)
{
    if (!device_classes) {
        device_classes = g_ptr_array_new();
    }
    g_ptr_array_add(device_classes, (gpointer)dc);
}

const DeviceClass *device_class_find(const char *name)
{
    for (guint i = 0; device_classes && i < device_classes->len; i++) {
        const DeviceClass *dc = g_ptr_array_index(device_classes, i);
        if (g_strcmp0(dc->name, name) == 0) {
            return dc;
        }
    }
    return NULL;
}

bool devices_create(GPtrArray *device_opts, GError **errp)
{
    for (guint i = 0; i < device_opts->len; i++) {
        const TernOpts *o = g_ptr_array_index(device_opts, i);
        if (!o->driver) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "-device: no driver given");
            return false;
        }
        const DeviceClass *dc = device_class_find(o->driver);
        if (!dc) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "-device %s: driver not supported", o->driver);
            return false;
        }
        if (!dc->create(o, errp)) {
            return false;
        }
    }
    return true;
}
