/*
 * qdev.h: the device registry behind -device and QMP device_add/device_del. A device model
 * registers a class with the properties it accepts; vl.c creates each -device through it,
 * so an unknown driver or property is refused before the VM starts, and QMP device_add
 * creates a device the same way while the VM runs (hotplug).
 *
 * Every device created keeps a DeviceState here: its id, its QOM path (QEMU's names,
 * which events carry) and its PCI function. Unplug is the guest's business (ACPI PCI
 * hotplug, hw/i386/acpi-pcihp.c): device_del only asks; the device goes when the guest
 * ejects its slot (or at the next system reset), and then DEVICE_DELETED is emitted.
 */
#ifndef TERN_HW_QDEV_H
#define TERN_HW_QDEV_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "options.h"

typedef struct PCIDevice PCIDevice;
typedef struct DeviceClass DeviceClass;

typedef struct DeviceState {
    const DeviceClass *dc;
    char *id;       /* NULL when none was given */
    char *path;     /* "/machine/peripheral/<id>" or "/machine/peripheral-anon/device[N]" */
    PCIDevice *pci; /* the model's PCI function, set by create */
    void *opaque;   /* the model, set by create */
    bool hotplugged;
    /* device_del asked the guest; a new request is refused until this virtual-clock time
     * (ms) passes, then sent again (QEMU's 5 s, for a guest that missed the first). */
    bool unplug_requested;
    int64_t unplug_expires_ms;
} DeviceState;

struct DeviceClass {
    const char *name;
    const char *desc;
    /* Create and realize the device from its options (already known to name this class),
     * setting ds->pci and ds->opaque. Must refuse unknown properties (opts_check_keys). */
    bool (*create)(const TernOpts *opts, DeviceState *ds, GError **errp);
    /* Undo create once the device has left the guest (eject, reset with an unplug
     * pending): free everything it holds. NULL: the device cannot be unplugged. */
    void (*destroy)(DeviceState *ds);
    /* For a class that serves several models (virtio-pci: the VirtioDeviceClass). */
    const void *data;
};

/* The hotplug controller of the machine's PCI bus (ACPI PCI hotplug on pc). */
typedef struct HotplugHandler {
    /* A device was added while the machine runs: tell the guest. */
    void (*plug)(DeviceState *ds);
    /* device_del: ask the guest to release the device. */
    void (*unplug_request)(DeviceState *ds);
} HotplugHandler;

void device_class_register(const DeviceClass *dc);
const DeviceClass *device_class_find(const char *name);

#define DEVICE_CLASS_REGISTER(dc)                                                              \
    static void __attribute__((constructor)) device_class_register_##dc(void)                  \
    {                                                                                          \
        device_class_register(&dc);                                                            \
    }

/* Create every -device in order; the first failure stops with its message. */
bool devices_create(GPtrArray *device_opts, GError **errp);
/* QMP device_add: create a device while the machine runs and tell the guest. */
DeviceState *device_hotplug(const TernOpts *opts, GError **errp);
/* QMP device_del: ask the guest to release device `id` (DeviceNotFound when unknown). */
bool device_unplug_request(const char *id, GError **errp);
/* The device left the guest: DEVICE_DELETED, then it is freed. */
void device_remove(DeviceState *ds);
DeviceState *device_find(const char *id);
/* The device in PCI slot `slot` of the bus, NULL when none (or not made by -device). */
DeviceState *device_find_slot(int slot);
void device_set_hotplug_handler(const HotplugHandler *h);

#endif
