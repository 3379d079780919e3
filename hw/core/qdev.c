/* qdev.c: the registry of device models that -device can name, and of the devices made. */
#include <string.h>
#include "error.h"
#include "hw/pci.h"
#include "hw/qdev.h"
#include "main-loop.h"
#include "migration/migration.h"
#include "monitor/qmp.h"

/* QEMU lets device_del ask again after this long (a guest may have missed the first). */
#define UNPLUG_RETRY_MS 5000

static GPtrArray *device_classes; /* const DeviceClass *: the registry */
static GPtrArray *devices;        /* DeviceState *, in creation order */
static unsigned anonymous;        /* devices given no id= so far: device[N] */
static const HotplugHandler *hotplug_handler;

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

void device_set_hotplug_handler(const HotplugHandler *h)
{
    hotplug_handler = h;
}

DeviceState *device_find(const char *id)
{
    for (guint i = 0; id && devices && i < devices->len; i++) {
        DeviceState *ds = g_ptr_array_index(devices, i);
        if (g_strcmp0(ds->id, id) == 0) {
            return ds;
        }
    }
    return NULL;
}

DeviceState *device_find_slot(int slot)
{
    for (guint i = 0; devices && i < devices->len; i++) {
        DeviceState *ds = g_ptr_array_index(devices, i);
        if (ds->pci && ds->pci->devfn >= 0 && PCI_SLOT(ds->pci->devfn) == slot) {
            return ds;
        }
    }
    return NULL;
}

static void device_state_free(DeviceState *ds)
{
    g_free(ds->id);
    g_free(ds->path);
    g_free(ds);
}

/* `what` names the request in messages: "-device" or "device_add". */
static DeviceState *device_create(const TernOpts *o, bool hotplug, GError **errp)
{
    const char *what = hotplug ? "device_add" : "-device";
    if (!o->driver) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s: no driver given", what);
        return NULL;
    }
    const DeviceClass *dc = device_class_find(o->driver);
    if (!dc) {
        /* QEMU's words for QMP; the command line keeps tern's. */
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    hotplug ? "'%s' is not a valid device model name"
                            : "-device %s: driver not supported",
                    o->driver);
        return NULL;
    }
    if (o->id && device_find(o->id)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "Duplicate ID '%s' for device",
                    o->id);
        return NULL;
    }
    if (hotplug && (!hotplug_handler || !dc->destroy)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    hotplug_handler ? "Device '%s' does not support hotplugging"
                                    : "No 'PCI' bus found for device '%s'",
                    dc->name);
        return NULL;
    }
    DeviceState *ds = g_new0(DeviceState, 1);
    ds->dc = dc;
    ds->id = g_strdup(o->id);
    ds->hotplugged = hotplug;
    ds->path = o->id ? g_strdup_printf("/machine/peripheral/%s", o->id)
                     : g_strdup_printf("/machine/peripheral-anon/device[%u]", anonymous);
    if (!dc->create(o, ds, errp)) {
        device_state_free(ds);
        return NULL;
    }
    if (!o->id) {
        anonymous++;
    }
    if (!devices) {
        devices = g_ptr_array_new();
    }
    g_ptr_array_add(devices, ds);
    return ds;
}

bool devices_create(GPtrArray *device_opts, GError **errp)
{
    for (guint i = 0; i < device_opts->len; i++) {
        if (!device_create(g_ptr_array_index(device_opts, i), false, errp)) {
            return false;
        }
    }
    return true;
}

DeviceState *device_hotplug(const TernOpts *opts, GError **errp)
{
    /* The stream's device sections are fixed when a migration starts (QEMU's rule). */
    if (migration_is_active()) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "device_add not allowed while migrating");
        return NULL;
    }
    DeviceState *ds = device_create(opts, true, errp);
    if (ds) {
        hotplug_handler->plug(ds);
    }
    return ds;
}

bool device_unplug_request(const char *id, GError **errp)
{
    DeviceState *ds = device_find(id);
    if (!ds) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_DEVICE_NOT_FOUND, "Device '%s' not found", id);
        return false;
    }
    if (!ds->dc->destroy || !hotplug_handler || !ds->pci) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "Bus 'pci.0' does not support hotplugging");
        return false;
    }
    if (migration_is_active()) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "device_del not allowed while migrating");
        return false;
    }
    int64_t now_ms = clock_get_ns(TERN_CLOCK_VIRTUAL) / 1000000;
    if (ds->unplug_requested && now_ms < ds->unplug_expires_ms) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "Device %s is already in the process of unplug", id);
        return false;
    }
    ds->unplug_requested = true;
    ds->unplug_expires_ms = now_ms + UNPLUG_RETRY_MS;
    hotplug_handler->unplug_request(ds);
    return true;
}

void device_remove(DeviceState *ds)
{
    g_ptr_array_remove(devices, ds);
    /* The model's children (virtio-net's backend) report first, then the device, as in
     * QEMU: clients waiting for {"device": id} take the last one. */
    ds->dc->destroy(ds);
    JsonObject *data = json_object_new();
    if (ds->id) {
        json_object_set_string_member(data, "device", ds->id);
    }
    json_object_set_string_member(data, "path", ds->path);
    qmp_event_emit("DEVICE_DELETED", data);
    device_state_free(ds);
}
