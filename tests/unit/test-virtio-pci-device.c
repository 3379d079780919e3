/*
 * test-virtio-pci-device.c: the virtio-pci transport wraps any VirtioDeviceClass. A
 * minimal model declared here, with no PCI code of its own, becomes -device
 * virtio-dummy-pci: the transport refuses its unknown properties, reads addr itself,
 * shows the model's ids, and unplug goes through the model's unrealize and free.
 */
#include <string.h>
#include "error.h"
#include "hw/memory.h"
#include "hw/pci.h"
#include "hw/qdev.h"
#include "hw/virtio-pci.h"

#define DUMMY_ID 18 /* the virtio id the model claims (input) */

typedef struct Dummy {
    uint32_t value; /* its migration state */
    VirtIODevice vdev;
} Dummy;

static struct {
    unsigned created, realized, unrealized, freed;
} calls;

static void dummy_get_config(VirtIODevice *vdev, uint8_t *config)
{
}

static void dummy_reset(VirtIODevice *vdev)
{
}

static void dummy_handle(VirtIODevice *vdev, VirtQueue *vq)
{
}

static const VirtioDeviceOps dummy_ops = {
    .get_config = dummy_get_config,
    .reset = dummy_reset,
};

static const VMStateDescription vmstate_dummy = {
    .name = "virtio-dummy",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_UINT32(value, Dummy), VMSTATE_END_OF_LIST()},
};

static VirtIODevice *dummy_create(const TernOpts *o, const char *const *transport_props,
                                  const char *backend_path, GError **errp)
{
    if (!opts_check_keys(o, transport_props, errp)) {
        return NULL;
    }
    Dummy *d = g_new0(Dummy, 1);
    virtio_init(&d->vdev, "dummy", DUMMY_ID, 8, &dummy_ops);
    d->vdev.host_features = VIRTIO_BIT(VIRTIO_F_VERSION_1);
    virtio_add_queue(&d->vdev, 64, dummy_handle);
    calls.created++;
    return &d->vdev;
}

static void dummy_realized(VirtIODevice *vdev)
{
    calls.realized++;
}

static void dummy_unrealize(VirtIODevice *vdev)
{
    calls.unrealized++;
}

static void dummy_free(VirtIODevice *vdev)
{
    calls.freed++;
    virtio_cleanup(vdev);
    g_free((char *)vdev - offsetof(Dummy, vdev));
}

static const VirtioDeviceClass dummy_class = {
    .name = "virtio-dummy",
    .class_code = 0x098000,
    .create = dummy_create,
    .realized = dummy_realized,
    .unrealize = dummy_unrealize,
    .free = dummy_free,
    .vmsd = &vmstate_dummy,
    .vdev_offset = offsetof(Dummy, vdev),
};
VIRTIO_PCI_DEVICE_REGISTER(dummy_class, "virtio-dummy-pci", "a model for the transport test")

static bool create(const char *args, GError **errp)
{
    TernOpts *o = opts_parse("-device", args, "driver", errp);
    g_assert_nonnull(o);
    GPtrArray *devs = g_ptr_array_new();
    g_ptr_array_add(devs, o);
    bool ok = devices_create(devs, errp);
    g_ptr_array_free(devs, TRUE);
    opts_free(o);
    return ok;
}

static void test_refusals(void)
{
    g_autoptr(GError) err = NULL;
    g_assert_false(create("virtio-dummy-pci,mac=52:54:00:00:00:01", &err));
    g_assert_nonnull(strstr(err->message, "property 'mac' is not supported"));
    g_clear_error(&err);
    g_assert_false(create("virtio-dummy-pci,bus=pci.1", &err));
    g_assert_nonnull(strstr(err->message, "-device virtio-dummy-pci: Bus 'pci.1' not found"));
    g_assert_cmpuint(calls.freed, ==, calls.created); /* a refusal leaves nothing */
}

static void test_ids_and_unplug(void)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(create("virtio-dummy-pci,id=d0,addr=5", &err));
    DeviceState *ds = device_find("d0");
    g_assert_nonnull(ds);
    g_assert_true(ds->pci == pci_bus_find(PCI_DEVFN(5, 0)));
    const uint8_t *c = ds->pci->config;
    g_assert_cmphex(pci_get_word(c + PCI_VENDOR_ID), ==, PCI_VENDOR_ID_VIRTIO);
    g_assert_cmphex(pci_get_word(c + PCI_DEVICE_ID), ==,
                    PCI_DEVICE_ID_VIRTIO_MODERN_BASE + DUMMY_ID);
    g_assert_cmphex(pci_get_long(c + PCI_REVISION_ID) >> 8, ==, 0x098000);
    g_assert_cmpuint(calls.realized, ==, 1);
    unsigned freed = calls.freed;
    device_remove(ds);
    g_assert_cmpuint(calls.unrealized, ==, 1);
    g_assert_cmpuint(calls.freed, ==, freed + 1);
    g_assert_null(pci_bus_find(PCI_DEVFN(5, 0)));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_true(guest_ram_init(16 << 20, 0xE0000000ULL, NULL));
    pci_host_init();
    g_test_add_func("/virtio-pci-device/refusals", test_refusals);
    g_test_add_func("/virtio-pci-device/ids-and-unplug", test_ids_and_unplug);
    return g_test_run();
}
