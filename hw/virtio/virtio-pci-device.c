/*
 * virtio-pci-device.c: `-device <model>-pci` for any virtio model. The transport is the
 * one object on the PCI bus and in the device registry: it asks the model
 * (VirtioDeviceClass) for its VirtIODevice, reads the properties that are the bus's
 * (addr, bus, romfile), realizes the PCI function with the model's ids, and owns the
 * migration section "<bus address>/<model>": the virtio core ("virtio"), the PCI function
 * and selectors, then the model's own state under the model's name. Unplug comes back
 * here and goes through the model's unrealize.
 */
#include <string.h>
#include "error.h"
#include "hw/virtio-pci.h"
#include "monitor/qmp.h"

static const char *const virtio_pci_props[] = {"addr", "bus", "romfile", NULL};

static bool virtio_pci_parse(const TernOpts *o, const char *driver, int *slot, GError **errp)
{
    const char *v = opts_get(o, "bus");
    if (v && strcmp(v, "pci.0") != 0) {
        return tern_error_fail(
            errp, "-device %s: Bus '%s' not found (the pc machine has pci.0)", driver, v);
    }
    v = opts_get(o, "romfile");
    if (v && *v) {
        return tern_error_fail(
            errp, "-device %s: romfile=%s: tern loads no option ROMs (use romfile=)", driver,
            v);
    }
    *slot = -1;
    return !(v = opts_get(o, "addr")) || (*slot = pci_parse_slot(v, errp)) >= 0;
}

/* The section's description: the core, the transport, then the model (each device its
 * own, since the model's description differs). */
static VMStateDescription *virtio_pci_section_vmsd(const VirtioDeviceClass *vdc)
{
    size_t n = 0;
    while (vmstate_virtio_pci_fields[n].type != VMS_END) {
        n++;
    }
    VMStateField *f = g_new0(VMStateField, n + 3);
    f[0] = (VMStateField)VMSTATE_STRUCT_POINTER(vdev, VirtIOPCIProxy, vmstate_virtio_device);
    f[0].name = "virtio";
    memcpy(f + 1, vmstate_virtio_pci_fields, n * sizeof(*f));
    f[n + 1] = (VMStateField)VMSTATE_STRUCT_POINTER(device_state, VirtIOPCIProxy,
                                                    vmstate_virtio_device);
    f[n + 1].name = vdc->name;
    f[n + 1].vmsd = vdc->vmsd;
    VMStateDescription *d = g_new0(VMStateDescription, 1);
    /* Version 2: the transport's section (version 1 was the model's, with the core and
     * the PCI function nested in it). */
    *d = (VMStateDescription){
        .name = vdc->name,
        .version_id = 2,
        .minimum_version_id = 2,
        .post_load = virtio_pci_post_load,
        .fields = f,
    };
    return d;
}

bool virtio_pci_device_create(const TernOpts *o, DeviceState *ds, GError **errp)
{
    const VirtioDeviceClass *vdc = ds->dc->data;
    g_autofree char *backend_path = g_strdup_printf("%s/virtio-backend", ds->path);
    VirtIODevice *vdev = vdc->create(o, virtio_pci_props, backend_path, errp);
    int slot = -1;
    if (!vdev) {
        return false;
    }
    if (!virtio_pci_parse(o, ds->dc->name, &slot, errp)) {
        vdc->free(vdev);
        return false;
    }
    VirtIOPCIProxy *p = g_new0(VirtIOPCIProxy, 1);
    if (!virtio_pci_realize(p, vdev, vdev->name, vdc->class_code, slot, errp)) {
        g_prefix_error(errp, "-device %s: ", ds->dc->name);
        msix_uninit(&p->pci);
        vdc->free(vdev);
        g_free(p);
        return false;
    }
    p->vdc = vdc;
    p->device_state = virtio_device_state(vdc, vdev);
    virtio_reset(vdev);
    if (vdc->realized) {
        vdc->realized(vdev);
    }
    g_autofree char *path = pci_device_path(&p->pci);
    g_autofree char *idstr = g_strdup_printf("%s/%s", path, vdc->name);
    p->section_vmsd = virtio_pci_section_vmsd(vdc);
    p->migration_section = vmstate_register_named(idstr, 0, p->section_vmsd, p);
    ds->pci = &p->pci;
    ds->opaque = p;
    return true;
}

/* The guest ejected the function: its section, bus slot, MSI-X (routes, irqfds),
 * ioeventfds, then the model. */
void virtio_pci_device_destroy(DeviceState *ds)
{
    VirtIOPCIProxy *p = ds->opaque;
    const VirtioDeviceClass *vdc = p->vdc;
    vmstate_unregister(p->migration_section);
    if (vdc->unrealize) {
        vdc->unrealize(p->vdev);
    }
    virtio_pci_unrealize(p);
    msix_uninit(&p->pci);
    JsonObject *data = json_object_new();
    g_autofree char *backend_path = g_strdup_printf("%s/virtio-backend", ds->path);
    json_object_set_string_member(data, "path", backend_path);
    qmp_event_emit("DEVICE_DELETED", data);
    vdc->free(p->vdev);
    g_free((void *)p->section_vmsd->fields);
    g_free(p->section_vmsd);
    g_free(p);
}
