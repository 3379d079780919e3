/*
 * test-acpi-pcihp.c: the ACPI PCI hotplug registers without a VMM process: the SCI as
 * GPE0 drives it, and a system reset completing an unplug the guest never answered (what
 * QEMU's device-plug-test expects: device_del, system_reset, DEVICE_DELETED), while a
 * device with no request pending stays.
 */
#include <string.h>
#include "error.h"
#include "hw/irq.h"
#include "hw/i386/acpi-pcihp.h"
#include "hw/i386/x86-tables.h"
#include "hw/machine.h"
#include "hw/memory.h"
#include "hw/pci.h"
#include "hw/qdev.h"
#include "monitor/qmp.h"

static bool sci;

static void rec_set_irq(int gsi, bool level)
{
    if (gsi == ACPI_SCI_IRQ) {
        sci = level;
    }
}

static void rec_send_msi(uint64_t addr, uint32_t data)
{
}

static const AccelOps rec_ops = {
    .name = "rec", .set_irq = rec_set_irq, .send_msi = rec_send_msi};

static GPtrArray *deleted; /* "device path" of each DEVICE_DELETED */

static void on_event(const char *name, JsonObject *data, void *opaque)
{
    if (strcmp(name, "DEVICE_DELETED") == 0) {
        g_ptr_array_add(deleted, g_strdup_printf("%s %s",
                                                 json_object_get_string_member_with_default(
                                                     data, "device", "-"),
                                                 json_object_get_string_member(data, "path")));
    }
}

static uint32_t inl(uint16_t port)
{
    return address_space_read(ADDR_SPACE_IO, port, 4);
}

static void out(uint16_t port, uint32_t v, unsigned size)
{
    address_space_write(ADDR_SPACE_IO, port, v, size);
}

static void add_testdev(const char *text)
{
    GError *err = NULL;
    TernOpts *o = opts_parse("-device", text, "driver", &err);
    g_assert_no_error(err);
    GPtrArray *list = g_ptr_array_new();
    g_ptr_array_add(list, o);
    g_assert_true(devices_create(list, &err));
    g_assert_no_error(err);
    g_ptr_array_unref(list);
    opts_free(o);
}

static void test_reset_completes_unplug(void)
{
    GError *err = NULL;
    AcpiPciHp *hp = acpi_pcihp_init();
    add_testdev("pci-testdev,id=t0,addr=5");
    add_testdev("pci-testdev,id=t1,addr=7");
    g_assert_nonnull(pci_bus_find(PCI_DEVFN(5, 0)));

    out(ACPI_GPE0_BASE + 2, ACPI_GPE_PCI_HOTPLUG, 2);
    g_assert_false(sci);
    g_assert_true(device_unplug_request("t0", &err));
    g_assert_no_error(err);
    g_assert_true(sci);
    g_assert_cmphex(inl(ACPI_PCIHP_BASE + ACPI_PCIHP_DOWN), ==, 1u << 5);
    g_assert_nonnull(pci_bus_find(PCI_DEVFN(5, 0)));
    g_assert_cmpuint(deleted->len, ==, 0);
    /* Disabling the GPE lowers the SCI; the status stays for later. */
    out(ACPI_GPE0_BASE + 2, 0, 2);
    g_assert_false(sci);
    out(ACPI_GPE0_BASE + 2, ACPI_GPE_PCI_HOTPLUG, 2);
    g_assert_true(sci);

    machine_reset();
    g_assert_null(pci_bus_find(PCI_DEVFN(5, 0)));
    g_assert_null(device_find("t0"));
    g_assert_cmpuint(deleted->len, ==, 1);
    g_assert_cmpstr(deleted->pdata[0], ==, "t0 /machine/peripheral/t0");
    g_assert_cmphex(inl(ACPI_PCIHP_BASE + ACPI_PCIHP_DOWN), ==, 0);
    g_assert_cmphex(address_space_read(ADDR_SPACE_IO, ACPI_GPE0_BASE, 4), ==, 0);
    g_assert_false(sci);
    /* Nothing was pending for t1: it stays through the reset. */
    g_assert_nonnull(pci_bus_find(PCI_DEVFN(7, 0)));
    g_assert_nonnull(device_find("t1"));
    acpi_pcihp_free(hp);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    accel_set_ops(&rec_ops);
    pci_host_init();
    deleted = g_ptr_array_new_with_free_func(g_free);
    qmp_event_observer_add(on_event, NULL);
    g_test_add_func("/acpi-pcihp/reset-completes-unplug", test_reset_completes_unplug);
    return g_test_run();
}
