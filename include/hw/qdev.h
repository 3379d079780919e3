/*
 * qdev.h: the device registry behind -device. A device model registers a class with
 * the properties it accepts; vl.c creates each -device through it, so an unknown driver
 * or property is refused before the VM starts.
 */
#ifndef TERN_HW_QDEV_H
#define TERN_HW_QDEV_H

#include <glib.h>
#include <stdbool.h>
#include "options.h"

typedef struct DeviceClass {
    const char *name;
    const char *desc;
    /* Create and realize the device from its -device options (already known to name
     * this class). Must refuse unknown properties (opts_check_keys). */
    bool (*create)(const TernOpts *opts, GError **errp);
} DeviceClass;

void device_class_register(const DeviceClass *dc);
const DeviceClass *device_class_find(const char *name);

#define DEVICE_CLASS_REGISTER(dc)                                                          \
    static void __attribute__((constructor)) device_class_register_##dc(void)              \
    {                                                                                      \
        device_class_register(&dc);                                                        \
    }

/* Create every -device in order; the first failure stops with its message. */
bool devices_create(GPtrArray *device_opts, GError **errp);

#endif
